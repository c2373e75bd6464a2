"""CandidateIndex: pairs, DF cap, incremental add, save/load round trip."""

from __future__ import annotations

import numpy as np

from newsdedup.tasks.align import ReuseDoc, prepare
from newsdedup.tasks.candidates import CandidateIndex

STORY = ("أعلنت وزارة الصحة السعودية تسجيل 129 إصابة جديدة بفيروس كورونا في منطقة الرياض "
         "وأوضحت الوزارة أن الحالات تتلقى العلاج في مستشفيات المنطقة وأن فرق الرصد تتابع المخالطين")
OTHER = ("افتتح أمير المنطقة الشرقية معرض الكتاب الدولي بمشاركة ثلاثمائة دار نشر عربية وأجنبية "
         "ويستمر المعرض عشرة أيام وسط إقبال كبير من الزوار والمثقفين")
THIRD = ("قررت اللجنة الأولمبية تأجيل البطولة الإقليمية للسباحة إلى الشهر المقبل بسبب أعمال الصيانة "
         "في المجمع الرياضي بالعاصمة")


def P(doc_id: str, text: str):
    return prepare(ReuseDoc(doc_id, text))


def test_pairs_within_batch_sorted_and_deduplicated():
    docs = [P("d3", "تمهيد قصير. " + STORY), P("d1", STORY + " خاتمة."), P("d2", OTHER), P("d1", STORY + " خاتمة.")]
    idx = CandidateIndex()
    assert idx.candidates(docs) == [("d1", "d3")]
    assert len(idx) == 0  # querying does not index


def test_incremental_add_finds_pairs_with_earlier_docs_only_once():
    idx = CandidateIndex()
    first = [P("a", STORY), P("b", OTHER)]
    idx.add(first)
    assert "a" in idx and "z" not in idx and len(idx) == 2
    second = [P("c", "خبر: " + STORY), P("d", THIRD), P("e", OTHER + " انتهى")]
    assert idx.candidates(second) == [("a", "c"), ("b", "e")]
    idx.add(second)
    idx.add(second)  # idempotent
    assert len(idx) == 5
    # after adding, querying the same docs gives the same pairs (no self pairs, no duplicates)
    assert idx.candidates(second) == [("a", "c"), ("b", "e")]


def test_df_cap_drops_stock_phrases():
    stock = "خادم الحرمين الشريفين الملك سلمان بن عبدالعزيز آل سعود"
    docs = [P(f"s{i:02d}", f"{stock} {w}") for i, w in enumerate(
        [STORY, OTHER, THIRD, "استقبل وفدا تجاريا", "دشن مشروعا سكنيا", "رعى حفل التخرج"])]
    idx = CandidateIndex(df_cap=3)
    idx.add(docs[:4])
    assert len(idx.shingle.stop) > 0  # the stock 3-grams went over the cap
    assert idx.candidates(docs[4:]) == []  # sharing only the stock phrase is no candidate
    assert set(idx.common_shingles(2).tolist()) >= set(idx.shingle.stop.tolist())


def test_common_shingles_are_the_keys_in_at_least_min_df_postings():
    """Checked against counting every key (the comparison shortcut must give exactly those keys)."""
    rng = np.random.default_rng(3)
    for trial in range(40):
        keys = np.sort(rng.integers(0, 1 + trial * 3, size=int(rng.integers(0, 300)))).astype(np.int64)
        idx = CandidateIndex()
        idx.shingle.keys = keys
        idx.shingle.stop = np.sort(rng.choice(10_000, size=int(rng.integers(0, 4)), replace=False)).astype(np.int64)
        values, counts = np.unique(keys, return_counts=True)
        for min_df in (0, 1, 2, 5, 20, 400):
            want = np.union1d(values[counts >= min_df], idx.shingle.stop)
            got = idx.common_shingles(min_df)
            assert got.dtype == np.int64 and got.tolist() == want.tolist(), (trial, min_df)


def test_save_load_round_trip(tmp_path):
    idx = CandidateIndex(df_cap=50, min_shared=2)
    idx.add([P("a", STORY), P("b", OTHER)])
    idx.save(tmp_path / "ix")
    back = CandidateIndex.load(tmp_path / "ix")
    assert back.doc_ids == ["a", "b"] and back.df_cap == 50
    for ch in ("shingle", "word"):
        for arr in ("keys", "docs", "stop"):
            assert np.array_equal(getattr(getattr(idx, ch), arr), getattr(getattr(back, ch), arr))
    q = [P("c", STORY + " جديد"), P("d", THIRD)]
    assert back.candidates(q) == idx.candidates(q) == [("a", "c")]
    back.add(q)
    back.save(tmp_path / "ix")
    again = CandidateIndex.load(tmp_path / "ix")
    assert len(again) == 4 and "d" in again


def test_load_missing_dir_is_empty(tmp_path):
    idx = CandidateIndex.load(tmp_path / "nothing")
    assert len(idx) == 0 and idx.candidates([P("a", STORY)]) == []


def test_outdated_index_dir_gives_clear_error(tmp_path):
    import json

    import pytest

    (tmp_path / "meta.json").write_text(json.dumps({"format": 1, "df_cap": 100, "doc_ids": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="rebuild"):
        CandidateIndex.load(tmp_path)


def test_merging_new_postings_equals_sorting_everything_again():
    """The append merge (new documents numbered after every stored one) counts only the new keys
    against the cap; it must give exactly what concatenating, sorting and capping everything gives."""
    import numpy as np

    from newsdedup.tasks.candidates import _Postings, _runs

    def reference(p, nk, nd):
        k, d = p._drop_stopped(nk, nd)
        keys, docs = np.concatenate([p.keys, k]), np.concatenate([p.docs, d])
        order = np.lexsort((docs, keys))
        keys, docs = keys[order], docs[order]
        start, cnt = _runs(keys)
        over = cnt > p.df_cap
        keep = ~np.repeat(over, cnt)
        return keys[keep], docs[keep], keys[start][over]

    rng = np.random.default_rng(1)
    for _ in range(200):
        p = _Postings(int(rng.integers(1, 6)), 2)
        k0 = rng.integers(0, 30, int(rng.integers(1, 200)))
        p.add(k0, rng.integers(0, int(rng.integers(1, 40)), len(k0)).astype(np.int32))
        for _ in range(3):
            base = int(p.docs.max()) + 1 if len(p.docs) else 0
            nk = rng.integers(0, 40, int(rng.integers(1, 60)))
            nd = rng.integers(base, base + 10, len(nk)).astype(np.int32)
            want, got = reference(p, nk, nd), p._combined(nk, nd)
            assert all(np.array_equal(a, b) for a, b in zip(want, got))
            p.add(nk, nd)
