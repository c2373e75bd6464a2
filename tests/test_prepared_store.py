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
