"""grow_clusters: clusters grown from the stored ones equal clusters rebuilt from all matches."""

from __future__ import annotations

import random

import pytest

from newsdedup.tasks.align import Match
from newsdedup.tasks.cluster import build_clusters, grow_clusters, span_nodes
from newsdedup.tasks.cluster_state import ClusterState

WORDS = ["قال", "موقع", "ديبكا", "وكالة", "رويترز", "الأمير", "مجلس", "الوزراء", "اليوم", "مصدر", "عسكري", "صحيفة",
         "الغارديان", "أن", "في", "من", "CNN", "بالعربية"]


def _docs(rng: random.Random, names: list[str], seq0: int) -> dict[str, dict]:
    out = {}
    for k, d in enumerate(names):
        text = " ".join(rng.choice(WORDS) for _ in range(90))
        pub = rng.choice([None, "2015-08-01", "2015-08-02", "2015-08-03"])
        out[d] = {"external_id": f"x-{d}", "outlet": rng.choice(["o1", "o2", "o3", None]), "published": pub,
                  "ingest_seq": seq0 + k, "text": text}
    return out


def _span(rng: random.Random, spots: list[int]) -> tuple[int, int]:
    s = rng.choice(spots) + rng.randint(-15, 15)
    s = max(0, s)
    return s, s + rng.randint(30, 120)


def _matches(rng: random.Random, pairs: list[tuple[str, str]], spots: list[int]) -> list[Match]:
    out = []
    for a, b in pairs:
        a0, a1 = _span(rng, spots)
        b0, b1 = _span(rng, spots)
        out.append(Match(a, a0, a1, b, b0, b1, float(rng.choice([80.5, 88.25, 91.0, 97.75, 100.0])),
                         rng.choice(["fuzzy", "verbatim", "phrases"]), rng.choice([None, 6.5, 9.0, 30.0]),
                         "template" if rng.random() < 0.25 else "reuse"))
    return out


def _rows(ms: list[Match], tag: str) -> list[dict]:
    return [{"_id": f"{tag}{k:05d}", "a_doc_id": m.a_doc_id, "a_start": m.a_start, "a_end": m.a_end,
             "b_doc_id": m.b_doc_id, "b_start": m.b_start, "b_end": m.b_end, "score": m.score, "method": m.method,
             "evidence": m.evidence, "kind": m.kind}
            for k, m in enumerate(ms)]


def _state(rows: list[dict], clusters: list[dict], attribs: dict) -> ClusterState:
    st = ClusterState()
    st.add_matches(rows)
    for c in clusters:
        st.set_cluster(c["cluster_id"], None, [(m["doc_id"], m["start"], m["end"]) for m in c["members"]], attribs)
    return st


def _case(seed: int):
    rng = random.Random(seed)
    old = [f"a{i:02d}" for i in range(rng.randint(4, 14))]
    new = [f"n{i:02d}" for i in range(rng.randint(1, 6))]
    docs = {**_docs(rng, old, 0), **_docs(rng, new, 100)}
    spots = [rng.randint(0, 300) for _ in range(rng.randint(1, 4))]  # few spots: passages overlap and chain
    pairs1 = [tuple(rng.sample(old, 2)) if rng.random() > 0.1 else (o, o) for o in
              (rng.choice(old) for _ in range(rng.randint(3, 25)))]
    pairs2 = [(rng.choice(new), rng.choice(old + new)) for _ in range(rng.randint(1, 15))]
    m1 = _matches(rng, pairs1, spots)
    m2 = _matches(rng, pairs2, spots)
    return docs, m1, m2, set(new)


@pytest.mark.parametrize("seed", range(300))
def test_grown_clusters_equal_rebuilt_ones(seed):
    docs, m1, m2, fresh = _case(seed)
    attribs1: dict = {}
    first = build_clusters(m1, docs, attribs1)
    rows1, rows2 = _rows(m1, "m"), _rows(m2, "z")
    st = _state(rows1, first, attribs1)
    st.add_matches(rows2)
    stored = {c["cluster_id"]: {**c, "_id": c["cluster_id"]} for c in first}
    asked: list[str] = []

    def read_docs(ids):
        asked.extend(ids)
        return {d: docs[d] for d in ids}

    grown = grow_clusters(st, [r["_id"] for r in rows2], fresh, lambda ids: {i: stored[i] for i in ids}, read_docs)
    expected_attribs: dict = {}
    expected = build_clusters(m1 + m2, docs, expected_attribs)
    assert grown is not None  # only a fresh document with matches of an earlier run is rebuilt
    kept = [c for c in first if c["cluster_id"] not in grown.stale]
    got = sorted(kept + grown.clusters, key=lambda c: c["cluster_id"])
    assert got == expected
    # attributions recorded for the grown clusters are those a rebuild records
    members = {(m["doc_id"], m["start"], m["end"]) for c in grown.clusters for m in c["members"]}
    assert grown.attribs == {k: v for k, v in expected_attribs.items() if k in members}
    # every earlier document whose passages may change cluster is listed
    before = {(m["doc_id"], m["start"], m["end"], c["cluster_id"]) for c in first for m in c["members"]}
    after = {(m["doc_id"], m["start"], m["end"], c["cluster_id"]) for c in expected for m in c["members"]}
    assert {d for d, *_ in before ^ after if d not in fresh} <= set(grown.earlier)
    assert set(asked) <= set(docs)


def test_most_random_cases_grow():
    grown = 0
    for seed in range(100):
        docs, m1, m2, fresh = _case(seed)
        attribs: dict = {}
        first = build_clusters(m1, docs, attribs)
        st = _state(_rows(m1, "m"), first, attribs)
        rows2 = _rows(m2, "z")
        st.add_matches(rows2)
        stored = {c["cluster_id"]: {**c, "_id": c["cluster_id"]} for c in first}
        g = grow_clusters(st, [r["_id"] for r in rows2], fresh, lambda ids: {i: stored[i] for i in ids},
                          lambda ids: {d: docs[d] for d in ids})
        grown += g is not None
    assert grown >= 60


def _components(ms: list[Match]) -> int:
    """Connected groups of two or more passages, per kind (what union-find alone would cluster)."""
    n = 0
    for kind in {m.kind for m in ms}:
        sub = [m for m in ms if m.kind == kind]
        keys, where = span_nodes(sub)
        parent = list(range(len(keys)))

        def find(x: int) -> int:
            while parent[x] != x:
                x = parent[x]
            return x
        for m in sub:
            parent[find(where[(m.a_doc_id, m.a_start, m.a_end)])] = find(where[(m.b_doc_id, m.b_start, m.b_end)])
        sizes: dict[int, int] = {}
        for i in range(len(keys)):
            sizes[find(i)] = sizes.get(find(i), 0) + 1
        n += sum(v >= 2 for v in sizes.values())
    return n


def test_kinds_and_peeling_are_exercised():
    """The random cases hold templates and claims, and groups that peeling splits or thins."""
    kinds, split = set(), 0
    for seed in range(60):
        docs, m1, m2, _ = _case(seed)
        cl = build_clusters(m1 + m2, docs)
        kinds |= {c["kind"] for c in cl}
        split += len(cl) != _components(m1 + m2)
    assert {"claim", "template"} <= kinds
    assert split >= 5


def test_clusters_without_known_attributions_grow_from_stored_texts():
    docs, m1, m2, fresh = _case(7)
    first = build_clusters(m1, docs)
    st = ClusterState()
    st.add_matches(_rows(m1, "m"))
    for c in first:  # as rebuilt from the database: attributions unknown
        st.set_cluster(c["cluster_id"], None, [(m["doc_id"], m["start"], m["end"]) for m in c["members"]])
    rows2 = _rows([Match("n00", 0, 60, first[0]["members"][0]["doc_id"], first[0]["members"][0]["start"],
                         first[0]["members"][0]["end"], 99.0, "fuzzy")], "z")
    st.add_matches(rows2)
    stored = {c["cluster_id"]: {**c, "_id": c["cluster_id"]} for c in first}
    grown = grow_clusters(st, ["z00000"], {"n00"}, lambda ids: {i: stored[i] for i in ids},
                          lambda ids: {d: docs[d] for d in ids})
    expected = build_clusters(m1 + [Match("n00", 0, 60, *[first[0]["members"][0][k] for k in ("doc_id", "start", "end")],
                                          99.0, "fuzzy")], {**docs, "n00": docs["n00"]})
    kept = [c for c in first if c["cluster_id"] not in grown.stale]
    assert sorted(kept + grown.clusters, key=lambda c: c["cluster_id"]) == expected


def test_a_fresh_document_with_earlier_matches_is_rebuilt():
    docs, m1, _, _ = _case(3)
    attribs: dict = {}
    first = build_clusters(m1, docs, attribs)
    st = _state(_rows(m1, "m"), first, attribs)
    d = m1[0].a_doc_id  # "fresh" again: a document of a killed run being redone
    st.add_matches(_rows([Match(d, 0, 50, "n00", 0, 50, 90.0, "fuzzy")], "z"))
    assert grow_clusters(st, ["z00000"], {d, "n00"}, lambda ids: {}, lambda ids: {}) is None
