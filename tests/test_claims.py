"""Claims peeled from connected passages (no chaining), cluster kinds and confidence."""

from __future__ import annotations

from newsdedup.tasks.align import Match
from newsdedup.tasks.claims import cluster_confidence, cluster_kind, peel_claims
from newsdedup.tasks.cluster import build_clusters

TEXT = " ".join(f"كلمة{i}" for i in range(120))


def _docs(**outlets: str) -> dict[str, dict]:
    return {d: {"external_id": d.upper(), "outlet": o, "published": f"2015-07-2{k}", "ingest_seq": k, "text": TEXT}
            for k, (d, o) in enumerate(outlets.items())}


def _members(c: dict) -> set[str]:
    return {m["doc_id"] for m in c["members"]}


def test_a_passage_joins_only_through_the_claims_own_text():
    # B's passage [0, 400) holds A's text in [0, 200) and, overlapping by half each time, C's in [100, 300)
    # and D's in [200, 400): one passage, so union-find puts A, B, C and D in one cluster. D shares
    # nothing of A's text, so it is not part of A's claim.
    ms = [Match("a", 0, 200, "b", 0, 200, 99.0, "verbatim", 30.0),
          Match("b", 100, 300, "c", 0, 200, 99.0, "verbatim", 30.0),
          Match("b", 200, 400, "d", 0, 200, 99.0, "verbatim", 30.0)]
    cl = build_clusters(ms, _docs(a="o1", b="o2", c="o3", d="o4"))
    assert [_members(c) for c in cl] == [{"a", "b", "c"}]
    assert cl[0]["cluster_id"].startswith("a:") and cl[0]["kind"] == "claim"


def test_a_title_two_members_share_does_not_chain_their_stories():
    # A and B carry one story; B and C carry another that happens to open with the same line as B's
    # story: the B-C link covers a small part of the text B holds for A's claim
    ms = [Match("a", 0, 500, "b", 0, 500, 98.0, "fuzzy", 40.0),
          Match("b", 0, 240, "c", 0, 240, 97.0, "fuzzy", 12.0),
          Match("c", 0, 240, "d", 0, 240, 97.0, "fuzzy", 12.0)]
    cl = build_clusters(ms, _docs(a="o1", b="o2", c="o3", d="o4"))
    got = sorted(_members(c) for c in cl)
    assert {"a", "b"} in got and not any({"a", "c"} <= g or {"a", "d"} <= g for g in got)


def test_peeling_is_a_function_of_the_group():
    nodes = [("a", 0, 200), ("b", 0, 400), ("c", 0, 200), ("d", 0, 200)]
    links = [(("a", 0, 200), (0, 200), ("b", 0, 400), (0, 200), 1), (("b", 0, 400), (100, 300), ("c", 0, 200), (0, 200), 2),
             (("b", 0, 400), (200, 400), ("d", 0, 200), (0, 200), 3)]
    order = {"a": 0, "b": 1, "c": 2, "d": 3}
    one = peel_claims(nodes, links, lambda n: order[n[0]])
    two = peel_claims(list(reversed(nodes)), list(reversed(links)), lambda n: order[n[0]])
    assert one == two == [[("a", 0, 200), ("b", 0, 400), ("c", 0, 200)], [("d", 0, 200)]]


def test_kinds_templates_group_only_with_templates():
    ms = [Match("a", 0, 300, "b", 0, 300, 99.0, "verbatim", 25.0),  # a claim between two outlets
          Match("a", 0, 300, "c", 0, 300, 80.0, "fuzzy", 9.0, "template"),  # the same passage as a template
          Match("c", 0, 300, "d", 0, 300, 80.0, "fuzzy", 9.0, "template"),
          Match("e", 0, 300, "f", 0, 300, 99.0, "verbatim", 25.0)]  # one outlet reusing its own text
    cl = {c["cluster_id"]: c for c in build_clusters(ms, _docs(a="o1", b="o2", c="o3", d="o4", e="o5", f="o5"))}
    kinds = {c["kind"]: _members(c) for c in cl.values()}
    assert kinds == {"claim": {"a", "b"}, "template": {"a", "c", "d"}, "self": {"e", "f"}}
    template = next(c for c in cl.values() if c["kind"] == "template")
    claim = next(c for c in cl.values() if c["kind"] == "claim")
    assert template["cluster_id"] == claim["cluster_id"] + "-t"  # one anchor, two clusters, two ids
    assert all(0.0 <= c["confidence"] <= 1.0 for c in cl.values())
    assert all(set(m) == {"doc_id", "external_id", "outlet", "published", "start", "end", "text", "score"}
               for c in cl.values() for m in c["members"])


def test_confidence_grows_with_evidence_and_outlets():
    assert cluster_confidence(1.0, 2) == 0.5
    assert cluster_confidence(0.5, 2) == 0.5  # never below a half: a stored match had what a match needs
    assert cluster_confidence(2.0, 2) > cluster_confidence(1.5, 2) > 0.5
    assert cluster_confidence(2.0, 6) > cluster_confidence(2.0, 2)
    assert cluster_confidence(40.0, 10) <= 1.0


def _kind_members(published: list[str], outlets: list[str] | None = None, length: int = 120) -> list[dict]:
    outlets = outlets or [f"o{i}" for i in range(len(published))]
    return [{"outlet": o, "published": p, "start": 0, "end": length} for o, p in zip(outlets, published)]


def test_a_formula_recurs_on_many_days_over_weeks():
    weeks = ["2015-07-01", "2015-07-06", "2015-07-12", "2015-07-19", "2015-07-25"]
    assert cluster_kind("reuse", _kind_members(weeks), best_ratio=1.2) == "formula"
    # evidence well above what a match needs, or long blocks, make it a claim whatever the days
    assert cluster_kind("reuse", _kind_members(weeks), best_ratio=3.0) == "claim"
    assert cluster_kind("reuse", _kind_members(weeks, length=600), best_ratio=1.2) == "claim"


def test_a_claim_spreading_over_a_few_days_is_not_a_formula():
    # five outlets at five different times of two days (date-times): one news cycle, not five days
    times = ["2015-07-01T08:00:00", "2015-07-01T13:10:00", "2015-07-01T21:45:00", "2015-07-02T07:30:00",
             "2015-07-02T11:00:00"]
    assert cluster_kind("reuse", _kind_members(times), best_ratio=1.2) == "claim"
    # retold on four different days within a week (an aid shipment, a festival)
    days = ["2015-07-01", "2015-07-02", "2015-07-03", "2015-07-04", "2015-07-04"]
    assert cluster_kind("reuse", _kind_members(days), best_ratio=1.2) == "claim"
    # unknown or malformed dates never make a formula
    assert cluster_kind("reuse", _kind_members(["", "x", "2015-07-01", "2015-09-01", "bad"]), best_ratio=1.2) == "claim"
