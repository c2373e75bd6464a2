"""Derived state kept in memory between runs of a served process, judged by the database's tokens.

Real store (the session's embedded server); the token protocol of ``derived_state`` is the one
every run uses, with the process-wide holder of ``tasks.resident`` switched on.
"""

from __future__ import annotations

import pytest

from newsdedup.tasks import derived_state, resident
from newsdedup.tasks.align import ReuseDoc, prepare
from newsdedup.tasks.candidates import CandidateIndex
from newsdedup.tasks.cluster_state import ClusterState
from newsdedup.tasks.line_stats import LineStats
from newsdedup.tasks.reuse import PreparedStore

ROW = {"_id": "m1", "a_doc_id": "d1", "a_start": 0, "a_end": 40, "b_doc_id": "d2", "b_start": 5, "b_end": 45,
       "score": 91.0, "method": "align"}


@pytest.fixture()
def store(mongo_uri, db_name):
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    st = Store.open(load_settings(db_name))
    yield st
    st.close()


@pytest.fixture()
def holder():
    resident.deactivate()
    h = resident.activate()
    yield h
    resident.deactivate()


def _state(*rows) -> ClusterState:
    st = ClusterState()
    st.add_matches(rows)
    return st


def test_holder_hands_objects_out_once_and_only_under_their_token(tmp_path):
    h = resident.ResidentState()
    h.keep(tmp_path, "cluster_state", "T1", obj := object())
    assert h.take(tmp_path, "cluster_state", "T2") is None  # the database names another token: dropped
    assert h.take(tmp_path, "cluster_state", "T1") is None  # ... and gone
    h.keep(tmp_path, "cluster_state", "T1", obj)
    assert h.take(tmp_path / "." , "cluster_state", "T1") is obj  # same directory however written
    assert h.take(tmp_path, "cluster_state", "T1") is None  # taken: a second run cannot share it
    assert h.take(tmp_path, "cluster_state", None) is None
    assert h.counts["cluster_state_hit"] == 1 and h.counts["cluster_state_stale"] == 1
    assert h.last == {"cluster_state": "not held"}
    with PreparedStore(tmp_path / "p") as spill:  # a dropped index closes its prepared store
        h.keep(tmp_path, "index", "T1", (CandidateIndex(), spill))
        h.keep(tmp_path, "index", "T2", (CandidateIndex(), PreparedStore(tmp_path / "q")))
        assert spill._fh.closed  # noqa: SLF001 - the file handle is what a leak would keep
        h.clear()
        assert len(h) == 0


def test_only_a_served_process_keeps_anything(store, tmp_path):
    resident.deactivate()
    derived_state.save_cluster_state(store, _state(ROW), tmp_path)
    got, rebuilt = derived_state.load_cluster_state(store, tmp_path, lambda: pytest.fail("saved state is current"))
    assert not rebuilt and got.n_matches == 1
    assert derived_state.warm(store, tmp_path) == {}


def test_cluster_state_comes_back_from_memory_until_the_database_names_another_token(store, holder, tmp_path):
    state = _state(ROW)
    derived_state.save_cluster_state(store, state, tmp_path)
    got, rebuilt = derived_state.load_cluster_state(store, tmp_path, lambda: pytest.fail("kept in memory"))
    assert got is state and not rebuilt and holder.last["cluster_state"] == "memory"
    # the run failed after loading (token distrusted, nothing saved): neither memory nor the file is trusted
    got, rebuilt = derived_state.load_cluster_state(store, tmp_path, lambda: _state())
    assert rebuilt and got is not state and got.n_matches == 0
    derived_state.save_cluster_state(store, got, tmp_path)
    # a run elsewhere (another process, another host) saved its own state since: memory is outdated
    other = _state(ROW, {**ROW, "_id": "m2", "b_doc_id": "d3"})
    derived_state.save_with_token(store, "cluster_state",
                                  lambda token: other.save(tmp_path / derived_state.CLUSTER_STATE, token))
    got, rebuilt = derived_state.load_cluster_state(store, tmp_path, lambda: pytest.fail("the other run's file is current"))
    assert not rebuilt and got is not other and got.n_matches == 2  # read from its file
    assert holder.last["cluster_state"] == "outdated"


def test_index_and_its_open_prepared_store_stay_in_memory(store, holder, tmp_path):
    index = CandidateIndex()
    index.add([prepare(ReuseDoc("d1", "قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا في العاصمة"))])
    spill = PreparedStore(tmp_path / "prepared")
    assert derived_state.save_index(store, index, spill, tmp_path) is True  # kept: the caller must not close it
    assert not spill._fh.closed  # noqa: SLF001
    got, got_spill, rebuilt = derived_state.load_index(store, tmp_path, lambda: pytest.fail("no rebuild"),
                                                      lambda ids: pytest.fail("no read"))
    assert got is index and got_spill is spill and rebuilt is None
    # taken and lost (the run failed): the files serve the next run
    spill.close()
    got, got_spill, rebuilt = derived_state.load_index(store, tmp_path, lambda: pytest.fail("no rebuild"),
                                                      lambda ids: pytest.fail("no read"))
    assert got is not index and len(got) == 1 and rebuilt is None and holder.last["index"] == "not held"
    got_spill.close()
    resident.deactivate()
    spill = PreparedStore(tmp_path / "prepared")
    assert derived_state.save_index(store, index, spill, tmp_path) is False  # a fresh process closes it
    spill.close()


def test_line_counts_in_memory_still_take_in_documents_stored_since(store, holder, tmp_path):
    rows = [("a", 0, ["k1"]), ("a", 1, ["k1", "k2"]), ("b", 2, ["k3"])]

    def read(seq):
        return iter([r for r in rows if seq is None or r[1] > seq])

    stats = LineStats()
    stats.add_all(rows[:2])
    derived_state.save_line_stats(store, stats, tmp_path)
    got, reused = derived_state.load_line_stats(store, tmp_path, read, 3)  # a run elsewhere stored a third
    assert got is stats and reused and got.n_docs == 3 and got.outlets["b"][0] == 1
    # unchanged by the run: kept under the same token without writing the file again
    derived_state.save_line_stats(store, got, tmp_path, changed=False)
    got2, reused = derived_state.load_line_stats(store, tmp_path, read, 3)
    assert got2 is stats and reused
    # a document the counts missed (stored with a smaller ingest_seq by a run killed elsewhere): rebuilt
    rows.append(("c", 1, ["k4"]))
    derived_state.save_line_stats(store, got2, tmp_path, changed=False)
    got3, reused = derived_state.load_line_stats(store, tmp_path, read, 4)
    assert not reused and got3 is not stats and got3.n_docs == 4


def test_warm_reads_what_the_database_vouches_for(store, holder, tmp_path):
    derived_state.save_cluster_state(store, _state(ROW), tmp_path)
    stats = LineStats()
    stats.add("a", 0, ["k"])
    derived_state.save_line_stats(store, stats, tmp_path)
    holder.clear()
    assert derived_state.warm(store, tmp_path) == {"index": False, "cluster_state": True, "line_stats": True}
    got, rebuilt = derived_state.load_cluster_state(store, tmp_path, lambda: pytest.fail("warmed"))
    assert not rebuilt and got.n_matches == 1 and holder.last["cluster_state"] == "memory"
    derived_state.distrust(store, "line_stats")
    holder.clear()
    assert derived_state.warm(store, tmp_path)["line_stats"] is False
