"""PreparedStore: prepared documents on disk next to the candidate index."""

from __future__ import annotations


def test_prepared_store_persists_saved_documents_only(tmp_path):
    """The on-disk store of prepared documents: read back by id after reopening, what a
    killed run appended without saving is ignored, an unreadable table resets the store."""
    import numpy as np

    from newsdedup.tasks.align import ReuseDoc, prepare
    from newsdedup.tasks.reuse import PreparedStore

    a = prepare(ReuseDoc("a", "قال موقع ديبكا الإسرائيلي إن القاعدة البحرية ستكون في طبرق"))
    b = prepare(ReuseDoc("b", "وأعلنت وزارة الدفاع الروسية عن مناورات جديدة في البحر المتوسط"))
    with PreparedStore(tmp_path) as st:
        st.put(a)
        st.put(a)  # idempotent
        st.save()
        st.put(b)  # appended, never saved (the run was killed)
        got = st.get("a")
        assert got.doc_id == "a" and np.array_equal(got.ids, a.ids) and got.norm_text == a.norm_text
    with PreparedStore(tmp_path) as st:
        assert "a" in st and "b" not in st and len(st) == 1
        assert np.array_equal(st.get("a").shingles, a.shingles) and st.get("b") is None
        st.put(b)
        st.save()
    with PreparedStore(tmp_path) as st:
        assert np.array_equal(st.get("b").ids, b.ids) and np.array_equal(st.get("a").ids, a.ids)
    (tmp_path / "prepared.json").write_text("{not json", encoding="utf-8")
    with PreparedStore(tmp_path) as st:
        assert len(st) == 0 and st.get("a") is None


def test_a_prepared_document_keeps_its_published_date(tmp_path):
    """The aligner reads which of two documents is later (retold sentences, tasks/rewrite.py) from the prepared
    documents: the stored document's date reaches them and survives the prepared store (and the pickling
    that carries documents to workers)."""
    import pickle

    from newsdedup.tasks.align import prepare
    from newsdedup.tasks.reuse import DOC_FIELDS, PreparedStore, reuse_doc

    assert "published" in DOC_FIELDS
    dated = prepare(reuse_doc({"doc_id": "a", "text": "وأعلنت وزارة الدفاع الروسية عن مناورات جديدة",
                               "published": "2014-12-01T08:02:00"}))
    undated = prepare(reuse_doc({"doc_id": "b", "text": "قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا"}))
    assert dated.published == "2014-12-01T08:02:00" and undated.published is None
    assert pickle.loads(pickle.dumps(dated)).published == "2014-12-01T08:02:00"
    with PreparedStore(tmp_path) as st:
        st.put(dated)
        st.put(undated)
        st.save()
    with PreparedStore(tmp_path) as st:
        assert st.get("a").published == "2014-12-01T08:02:00" and st.get("b").published is None


def test_an_index_save_cut_short_is_rebuilt_not_trusted(tmp_path, mongo_uri, db_name, monkeypatch):
    """A run killed while it rewrites the index files must not leave the old token naming a mix of
    old and new files: the next run rebuilds the index from the database instead."""
    import pytest

    from newsdedup.config import load_settings
    from newsdedup.db import Store
    from newsdedup.tasks.derived_state import load_index, save_index
    from newsdedup.tasks.align import ReuseDoc, prepare
    from newsdedup.tasks.candidates import CandidateIndex
    from newsdedup.tasks.reuse import PreparedStore

    def stored_ids():
        return store.all_doc_ids()

    def read(ids):
        return store.get_documents(ids, {"_id": 1, "doc_id": 1, "text": 1, "boilerplate_spans": 1}).values()

    store = Store.open(load_settings(db_name))
    directory = tmp_path / "index"
    try:
        index = CandidateIndex()
        index.add([prepare(ReuseDoc("d1", "قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا في العاصمة"))])
        with PreparedStore(directory / "prepared") as spill:
            save_index(store, index, spill, directory)
        loaded, spill, rebuilt = load_index(store, directory, stored_ids, read)
        spill.close()
        assert len(loaded) == 1 and rebuilt is None  # trusted: same token in the file and the database

        real_save = CandidateIndex.save

        def killed_halfway(self, d):
            self.shingle.save(d, "shingle_")  # some files rewritten, then the process dies
            raise KeyboardInterrupt("killed")

        monkeypatch.setattr(CandidateIndex, "save", killed_halfway)
        with PreparedStore(directory / "prepared") as spill, pytest.raises(KeyboardInterrupt):
            save_index(store, loaded, spill, directory)
        monkeypatch.setattr(CandidateIndex, "save", real_save)
        again, spill, rebuilt = load_index(store, directory, stored_ids, read)
        spill.close()
        assert rebuilt == 0 and len(again) == 0  # rebuilt from the (empty) database, the files not trusted
    finally:
        store.close()
