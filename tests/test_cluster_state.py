"""ClusterState (matches and cluster membership kept next to the index) and the store's running totals."""

from __future__ import annotations


def _row(mid, a, a0, a1, b, b0, b1):
    return {"_id": mid, "a_doc_id": a, "a_start": a0, "a_end": a1, "b_doc_id": b, "b_start": b0, "b_end": b1,
            "score": 90.0, "method": "fuzzy", "run_id": "r1"}


def test_cluster_state_lookups_and_updates():
    from newsdedup.tasks.cluster_state import ClusterState

    st = ClusterState.from_rows([_row("m2", "d1", 0, 50, "d2", 10, 60), _row("m1", "d2", 100, 150, "d3", 0, 50)],
                                [("c1", "sha1", [("d1", 0, 50), ("d2", 10, 60)])])
    assert st.add_matches([_row("m1", "d2", 100, 150, "d3", 0, 50), _row("m3", "d3", 5, 40, "d4", 0, 35)]) == 1
    assert st.n_matches == 3 and sorted(st.documents()) == ["d1", "d2", "d3", "d4"]
    got = st.matches_of(["d2"])
    assert [m["_id"] for m in got] == ["m1", "m2"] and "run_id" not in got[0]  # only what clustering reads
    assert st.matches_of(["zz"]) == []
    assert st.cluster_spans_of(["d2", "d3"]) == {"d2": [(10, 60, "c1")]}
    st.set_cluster("c2", "sha2", [("d2", 100, 150), ("d3", 0, 50), ("d4", 0, 35)])
    st.set_cluster("c1", "sha1b", [("d1", 0, 50), ("d2", 10, 60), ("d2", 200, 260)])  # replaced whole
    assert st.cluster_spans_of(["d2"]) == {"d2": [(10, 60, "c1"), (200, 260, "c1"), (100, 150, "c2")]}
    st.drop_cluster("c1")
    assert st.cluster_spans_of(["d1", "d2"]) == {"d2": [(100, 150, "c2")]} and "c1" not in st.sha
    st.drop_cluster("never-stored")  # no error
    assert st.sha == {"c2": "sha2"} and st.n_clusters == 1
    # a template cluster and a reuse cluster holding the same span of one document: both are kept (a run that
    # completes an interrupted one's passages assigns them from these spans, as the uninterrupted run does)
    st.set_cluster("c3-t", "sha3", [("d4", 0, 35), ("d5", 0, 40)])
    assert st.cluster_spans_of(["d4"]) == {"d4": [(0, 35, "c2"), (0, 35, "c3-t")]}
    st.drop_cluster("c3-t")
    assert st.cluster_spans_of(["d4", "d5"]) == {"d4": [(0, 35, "c2")]}


def test_cluster_state_is_trusted_only_with_its_token(tmp_path):
    from newsdedup.tasks.cluster_state import ClusterState

    path = tmp_path / "clusters.pkl"
    st = ClusterState.from_rows([_row("m1", "a", 0, 40, "b", 0, 40)], [("a:1", "s", [("a", 0, 40), ("b", 0, 40)])])
    st.save(path, "T1")
    back = ClusterState.load(path, "T1")
    assert back is not None and back.all_matches() == st.all_matches() and back.sha == {"a:1": "s"}
    assert back.cluster_spans_of(["b"]) == {"b": [(0, 40, "a:1")]}
    assert ClusterState.load(path, "T2") is None  # the database says another run wrote since
    assert ClusterState.load(path, None) is None  # a run began writing and did not finish
    path.write_bytes(b"not a pickle")
    assert ClusterState.load(path, "T1") is None
    assert ClusterState.load(tmp_path / "missing.pkl", "T1") is None


def test_member_attributions_are_kept_per_cluster_and_saved(tmp_path):
    """A cluster set with its members' attributions can be grown; one set without them (as rebuilt from
    the database) cannot; dropping or replacing a cluster forgets what was recorded for its members."""
    from newsdedup.tasks.cluster_state import ClusterState

    st = ClusterState.from_rows([_row("m1", "a", 0, 40, "b", 0, 40)], [("a:1", "s", [("a", 0, 40), ("b", 0, 40)])])
    assert not st.attrib_known("a:1")  # from the database: unknown
    st.set_cluster("a:1", "s2", [("a", 0, 40), ("b", 0, 40)], {("a", 0, 40): ((3, "ديبكا"),), ("z", 1, 2): ((0, "x"),)})
    assert st.attrib_known("a:1")
    assert st.attributions_of(("a", 0, 40)) == ((3, "ديبكا"),) and st.attributions_of(("b", 0, 40)) == ()
    assert st.attributions_of(("z", 1, 2)) == ()  # not a member: not recorded
    path = tmp_path / "clusters.pkl"
    st.save(path, "T")
    back = ClusterState.load(path, "T")
    assert back is not None and back.attrib_known("a:1") and back.attributions_of(("a", 0, 40)) == ((3, "ديبكا"),)
    back.set_cluster("a:1", "s3", [("a", 0, 40), ("b", 0, 40), ("c", 5, 45)])  # replaced without them
    assert not back.attrib_known("a:1") and back.attributions_of(("a", 0, 40)) == ()
    st.drop_cluster("a:1")
    assert not st.attrib_known("a:1") and st.attributions_of(("a", 0, 40)) == ()


def test_running_totals_follow_every_write(mongo_uri, db_name):
    """Totals are kept as running counts (counting is a scan on the embedded server): they must
    equal a real count after inserts with duplicates, passage deletes and cluster writes."""
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    store = Store.open(load_settings(db_name))
    try:
        assert store.counts() == {"documents": 0, "duplicates": 0, "passages": 0, "matches": 0, "clusters": 0,
                                  "derivations": 0, "rejects": 0, "boilerplate": 0}
        assert store.next_ingest_seq() == 0
        def doc(i: int) -> dict:
            return {"_id": f"d{i}", "doc_id": f"d{i}", "external_id": f"e{i}", "text": "نص", "content_sha256": "0",
                    "run_id": "r1", "segments": [], "ingest_seq": i}

        docs = [doc(i) for i in range(3000)]
        assert len(store.insert_documents(docs[:2000])) == 2000
        assert len(store.insert_documents(docs[1990:])) == 1000  # ten already stored
        copies = [{**doc(4000 + i), "duplicate_of": f"d{i}"} for i in range(5)]  # duplicates: counted apart
        assert len(store.insert_documents(copies[:3] + docs[:2])) == 3
        assert len(store.insert_documents(copies)) == 2
        assert store.next_ingest_seq() == 4005
        store.db.documents.insert_one({**doc(5000), "_id": "x"})
        assert store.next_ingest_seq() == 5001
        store.db.documents.delete_one({"_id": "x"})
        def passage(d: str, k: int, bp: bool) -> dict:
            return {"_id": f"{d}:{k:08d}", "passage_id": f"{d}:{k:08d}", "doc_id": d, "start": k, "end": k + 1,
                    "text": "ن", "boilerplate": bp}

        passages = [passage("d1", k, k % 3 == 0) for k in range(10)]
        assert store.insert_new("passages", passages[:6]) == 6
        assert store.insert_new("passages", passages) == 4
        store.insert_new("passages", [passage("d2", k, k == 0) for k in range(3)])
        store.delete_passages_of(["d2"])  # a killed run's passages, before they are written again
        store.insert_new("rejects", [{"_id": "r1"}])
        cluster = {"cluster_id": "d1:00000000-00000040", "size": 2, "outlets": [], "n_outlets": 0, "first_seen": {},
                   "representative": "", "attribution": None, "members": []}
        shas, _ = store.write_clusters([cluster, {**cluster, "cluster_id": "d2:00000000-00000040"}], set(), {})
        store.write_clusters([{**cluster, "size": 3}], {"d1:00000000-00000040", "d2:00000000-00000040"}, shas)
        pair = {"_id": "d1~d2", "a_doc_id": "d1", "b_doc_id": "d2", "derivation": "non"}
        assert store.write_derivations([pair, {**pair, "_id": "d1~d3", "b_doc_id": "d3"}]) == 2
        assert store.write_derivations([{**pair, "derivation": "wholly"}]) == 0  # replaced, not added
        assert store.db.derivations.find_one({"_id": "d1~d2"})["derivation"] == "wholly"
        want = {"documents": 3000, "duplicates": 5, "passages": 10, "matches": 0, "clusters": 1, "derivations": 2,
                "rejects": 1, "boilerplate": 4}
        assert store.counts() == want
        assert store.recount() == want
        store.db.meta.delete_one({"_id": "totals"})  # a database written before running totals existed
        assert store.counts() == want
    finally:
        store.client.drop_database(db_name)
        store.close()


def test_top_clusters_equal_a_sorted_query(mongo_uri, db_name):
    """The widest clusters are found by halving n_outlets ranges (sorting reads every cluster on the
    embedded server); the result must be exactly MongoDB's sort, for any limit and minimum."""
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    store = Store.open(load_settings(db_name))
    try:
        rows = [{"_id": f"c{i:03d}", "cluster_id": f"c{i:03d}", "n_outlets": (i * 7) % 40, "size": (i * 13) % 9,
                 "members": [{"doc_id": "d", "start": 0, "end": 1}]} for i in range(120)]
        store.db.clusters.insert_many(rows)
        for limit in (0, 1, 3, 10, 200):
            for min_outlets in (0, 1, 2, 17, 39, 41):
                cur = store.db.clusters.find({"n_outlets": {"$gte": min_outlets}}, {"_id": 0}) \
                    .sort([("n_outlets", -1), ("size", -1), ("cluster_id", 1)]).limit(limit)
                assert store.top_clusters(limit, min_outlets=min_outlets) == list(cur), (limit, min_outlets)
        assert "members" not in store.top_clusters(2, members=False)[0]
    finally:
        store.client.drop_database(db_name)
        store.close()


def test_retold_sentence_matches_are_kept_apart_from_clustering(tmp_path):
    """Matches of method ``rewrite`` link documents for their derivation only: clustering never sees
    them, a document pair's matches include them, and they survive a save and a load."""
    from newsdedup.tasks.cluster_state import ClusterState

    rows = [_row("m1", "a", 0, 40, "b", 0, 40), {**_row("m2", "a", 50, 90, "b", 60, 99), "method": "rewrite"},
            {**_row("m3", "a", 100, 140, "c", 0, 40), "method": "rewrite", "a_words": 0.5, "b_words": 0.7}]
    st = ClusterState.from_rows(rows[:1], [])
    assert st.add_matches(rows) == 2 and st.add_matches(rows) == 0
    assert [m["_id"] for m in st.all_matches()] == ["m1"] and [m["_id"] for m in st.matches_of(["a", "c"])] == ["m1"]
    assert sorted(st.documents()) == ["a", "b"] and st.n_matches == 3
    pairs = st.pair_matches([("a", "b"), ("a", "c"), ("b", "c")])
    assert {k: [m["_id"] for m in v] for k, v in pairs.items()} == {("a", "b"): ["m1", "m2"], ("a", "c"): ["m3"]}
    assert pairs[("a", "c")][0]["b_words"] == 0.7
    path = tmp_path / "clusters.pkl"
    st.save(path, "T")
    back = ClusterState.load(path, "T")
    assert back.pair_matches([("a", "b"), ("a", "c")]) == st.pair_matches([("a", "b"), ("a", "c")])
    assert back.all_matches() == st.all_matches()
