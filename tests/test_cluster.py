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
    assert [c["cluster_id"] for c in cl] == ["d1:00000010", "d4:00000005"]
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
    assert len(cl) == 2 and {c["cluster_id"] for c in cl} == {"d1:00000000", "d1:00000200"}
    # a third match joining d2 and d3 merges both clusters into one
    cl = build_clusters(ms + [Match("d2", 10, 30, "d3", 20, 45, 80.0, "fuzzy")], docs())
    assert len(cl) == 1 and cl[0]["size"] == 4 and cl[0]["cluster_id"] == "d1:00000000"


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
