"""build_clusters: union of overlapping spans, components, first_seen, ids."""

from __future__ import annotations

from newsdedup.tasks.align import Match
from newsdedup.tasks.cluster import build_clusters

TEXT = "س" * 400


def docs(**pub):
    out = {}
    for i, d in enumerate(["d1", "d2", "d3", "d4", "d5"]):
        out[d] = {"external_id": f"ext-{d}", "outlet": f"outlet{i % 3}", "published": pub.get(d),
                  "ingest_seq": 10 - i, "text": TEXT}
    return out


def test_overlapping_spans_are_one_node_and_components_merge():
    ms = [Match("d1", 10, 60, "d2", 100, 150, 95.0, "fuzzy"),
          Match("d2", 120, 170, "d3", 0, 50, 90.0, "fuzzy"),   # overlaps d2:100-150 -> same node
          Match("d4", 5, 30, "d5", 200, 230, 100.0, "verbatim")]
    cl = build_clusters(ms, docs())
    # no dates: the anchor is the smallest member (doc_id, start, end)
    assert [c["cluster_id"] for c in cl] == ["d1:00000010-00000060", "d4:00000005-00000030"]
    big = cl[0]
    assert big["size"] == 3
    assert [(m["doc_id"], m["start"], m["end"]) for m in big["members"]] == [("d1", 10, 60), ("d2", 100, 170), ("d3", 0, 50)]
    assert big["members"][1]["score"] == 95.0 and big["members"][1]["external_id"] == "ext-d2"
    assert big["outlets"] == ["outlet0", "outlet1", "outlet2"] and big["n_outlets"] == 3
    assert big["members"][0]["text"] == TEXT[10:60]


def test_disjoint_spans_of_one_doc_stay_separate_nodes_but_join_via_matches():
    ms = [Match("d1", 0, 40, "d2", 0, 40, 100.0, "verbatim"),
          Match("d1", 200, 240, "d3", 10, 50, 100.0, "verbatim")]
    cl = build_clusters(ms, docs())
    assert len(cl) == 2 and {c["cluster_id"] for c in cl} == {"d1:00000000-00000040", "d1:00000200-00000240"}
    # a third match joining d2 and d3 merges both clusters into one
    cl = build_clusters(ms + [Match("d2", 10, 30, "d3", 20, 45, 80.0, "fuzzy")], docs())
    assert len(cl) == 1 and cl[0]["size"] == 4 and cl[0]["cluster_id"] == "d1:00000000-00000040"


def test_first_seen_by_date_then_ingest_seq():
    ms = [Match("d1", 0, 40, "d2", 0, 40, 100.0, "verbatim"), Match("d2", 0, 40, "d3", 0, 40, 100.0, "verbatim")]
    cl = build_clusters(ms, docs(d2="2015-07-21", d3="2015-07-20"))
    assert cl[0]["first_seen"] == {"doc_id": "d3", "outlet": "outlet2", "published": "2015-07-20"}
    assert cl[0]["representative"] == TEXT[0:40]
    # no dates: the lowest ingest_seq wins (d3 has 8, d2 9, d1 10)
    cl = build_clusters(ms, docs())
    assert cl[0]["first_seen"]["doc_id"] == "d3"
    # same date: tie broken by ingest_seq
    cl = build_clusters(ms, docs(d1="2015-07-20", d2="2015-07-20"))
    assert cl[0]["first_seen"]["doc_id"] == "d2"


def test_deterministic_regardless_of_match_order():
    ms = [Match("d1", 10, 60, "d2", 100, 150, 95.0, "fuzzy"), Match("d2", 120, 170, "d3", 0, 50, 90.0, "fuzzy"),
          Match("d4", 5, 30, "d5", 200, 230, 100.0, "verbatim")]
    assert build_clusters(ms, docs()) == build_clusters(list(reversed(ms)), docs())


def test_attribution_in_cluster():
    a = "قال موقع ديبكا الإسرائيلي إن روسيا تسعى لقاعدة بحرية في ليبيا"
    b = "وكان موقع \"ديبكا\" الإسرائيلي قد كشف عن مساع روسية لقاعدة بحرية"
    d = {"x": {"external_id": "x", "outlet": "o1", "published": None, "ingest_seq": 1, "text": a},
         "y": {"external_id": "y", "outlet": "o2", "published": None, "ingest_seq": 2, "text": b}}
    cl = build_clusters([Match("x", 0, len(a), "y", 0, len(b), 60.0, "phrases")], d)
    assert cl[0]["attribution"] == "ديبكا"


def test_a_long_span_does_not_chain_the_short_ones_it_contains():
    """A compilation reprinted whole (X<->Y) and two of its stories quoted elsewhere (Z, W):
    three clusters, not one chained component."""
    text = "س" * 2000
    d = {k: {"external_id": k, "outlet": k, "published": None, "ingest_seq": i, "text": text}
         for i, k in enumerate("WXYZ")}
    ms = [Match("X", 0, 1000, "Y", 0, 1000, 99.0, "verbatim"),
          Match("X", 100, 200, "Z", 0, 100, 95.0, "fuzzy"),
          Match("W", 0, 100, "X", 500, 600, 95.0, "fuzzy")]
    cl = build_clusters(ms, d)
    assert sorted(sorted((m["doc_id"], m["start"], m["end"]) for m in c["members"]) for c in cl) == [
        [("W", 0, 100), ("X", 500, 600)], [("X", 0, 1000), ("Y", 0, 1000)], [("X", 100, 200), ("Z", 0, 100)]]


def _rows(ms):
    return [{"_id": f"m{i}", "a_doc_id": m.a_doc_id, "a_start": m.a_start, "a_end": m.a_end, "b_doc_id": m.b_doc_id,
             "b_start": m.b_start, "b_end": m.b_end, "score": m.score, "method": m.method} for i, m in enumerate(ms)]


def test_connected_matches_walks_passages_not_documents():
    from newsdedup.tasks.cluster import connected_matches

    ms = [Match("d1", 0, 100, "d2", 0, 100, 99.0, "verbatim"),      # cluster A ...
          Match("d2", 10, 100, "d3", 0, 90, 95.0, "fuzzy"),         # ... grows through d2's same passage
          Match("d1", 500, 600, "d4", 0, 100, 99.0, "verbatim"),    # cluster B: same document d1, other passage
          Match("d4", 0, 100, "d5", 0, 100, 99.0, "verbatim")]
    rows = _rows(ms)
    calls = []

    def matches_of(ids):
        calls.append(list(ids))
        return [r for r in rows if r["a_doc_id"] in ids or r["b_doc_id"] in ids]

    got = connected_matches([("d3", 0, 90)], matches_of)
    assert [r["_id"] for r in got] == ["m0", "m1"]
    assert all("d4" not in c and "d5" not in c for c in calls)  # cluster B's documents are never read
    assert [r["_id"] for r in connected_matches([("d5", 0, 100)], matches_of)] == ["m2", "m3"]
    assert connected_matches([], matches_of) == []


def test_cluster_id_names_the_earliest_published_member_and_survives_later_members():
    ms = [Match("d2", 0, 40, "d3", 0, 40, 100.0, "verbatim")]
    cl = build_clusters(ms, docs(d2="2015-07-22", d3="2015-07-21"))
    assert cl[0]["cluster_id"] == "d3:00000000-00000040"
    # a later article joins (its doc id is smaller): the name stays
    cl2 = build_clusters(ms + [Match("d1", 5, 45, "d3", 0, 40, 99.0, "fuzzy")],
                         docs(d1="2015-07-25", d2="2015-07-22", d3="2015-07-21"))
    assert cl2[0]["cluster_id"] == "d3:00000000-00000040" and cl2[0]["size"] == 3


def test_two_clusters_anchored_at_the_same_offset_have_different_ids():
    text = "س" * 2000
    d = {k: {"external_id": k, "outlet": k, "published": None, "ingest_seq": i, "text": text}
         for i, k in enumerate("XYZ")}
    ms = [Match("X", 0, 1000, "Y", 0, 1000, 99.0, "verbatim"),   # the whole article reprinted
          Match("X", 0, 100, "Z", 0, 100, 95.0, "fuzzy")]        # its first paragraph quoted
    ids = [c["cluster_id"] for c in build_clusters(ms, d)]
    assert ids == ["X:00000000-00000100", "X:00000000-00001000"]

