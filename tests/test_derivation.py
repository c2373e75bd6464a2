"""Document derivation (tasks/derivation.py): plain functions on plain records."""

from __future__ import annotations

import random

import pytest

from newsdedup.tasks.derivation import (DerivationParams, body_spans, classify, coverage, derivation_id,
                                        derivation_row, derivation_rows, later_side)


def _doc(doc_id: str, published: str | None, body: list[tuple[int, int]], ext: str | None = None) -> dict:
    return {"doc_id": doc_id, "external_id": ext or doc_id.upper(), "published": published, "body": body}


def _m(a: tuple[int, int], b: tuple[int, int], method: str = "fuzzy", kind: str | None = None,
       aw: float | None = None, bw: float | None = None, rare: int | None = 5) -> dict:
    return {"a_start": a[0], "a_end": a[1], "b_start": b[0], "b_end": b[1], "method": method, "kind": kind,
            "a_words": aw, "b_words": bw, "rare_words": rare, "score": 90.0}


def test_coverage_counts_body_characters_once():
    body = [(0, 100), (150, 250)]  # 200 body characters; 100-150 is boilerplate
    assert coverage([], body) == 0.0
    assert coverage([(0, 50), (25, 75)], body) == pytest.approx(75 / 200)  # overlaps counted once
    assert coverage([(90, 160)], body) == pytest.approx(20 / 200)  # the boilerplate part does not count
    assert coverage([(0, 1000)], body) == 1.0
    assert coverage([(0, 10)], []) == 0.0


def test_body_is_the_text_outside_boilerplate_passages():
    doc = {"segments": [[0, 10, 0, 0, "ar", 1.0, False, None], [11, 30, 1, 0, "ar", 1.0, True, "dateline"],
                        [31, 60, 2, 0, "ar", 1.0, False, None]], "text": "x" * 61}
    assert body_spans(doc) == [(0, 11), (30, 61)]
    assert body_spans({"text": "abc", "segments": []}) == [(0, 3)]
    # the size alone serves when the spans lie inside the body (matches never reach into boilerplate)
    assert coverage([(0, 11), (5, 20)], 40) == 0.5 and coverage([(0, 90)], 40) == 1.0 and coverage([(0, 1)], 0) == 0.0


@pytest.mark.parametrize("a,b,want", [
    ("2014-12-01", "2014-12-02", "b"), ("2014-12-02", "2014-12-01", "a"), ("2014-12-01", "2014-12-01", None),
    (None, "2014-12-01", None), ("2015-07-21T10:00:00", "2015-07-21T09:00:00", "a"),
    ("2015-07-21", "2015-07-21T09:00:00", None),  # a date and a time of the same day: either came first
])
def test_later_side(a, b, want):
    assert later_side(a, b) == want


def test_classify_thresholds_and_story_words():
    p = DerivationParams(derived=0.2, wholly=0.66, min_rare=2)
    assert classify(0.1, params=p) == "non"
    assert classify(0.3, params=p) == "partially"
    assert classify(0.9, params=p) == "wholly"
    assert classify(0.9, templates_only=True, params=p) == "non"
    assert classify(0.9, rare_words=1, params=p) == "non"  # two stories sharing no story-specific word
    assert classify(0.9, rare_words=None, params=p) == "wholly"  # not known: not held against it


def test_a_rewrite_of_an_earlier_story_names_its_source():
    a = _doc("a1", "2014-12-01", [(0, 1000)])
    b = _doc("b1", "2014-12-02", [(0, 500)])
    row = derivation_row(a, b, [_m((0, 400), (0, 450), aw=0.4, bw=0.9)])
    assert row["_id"] == derivation_id("b1", "a1") == "a1~b1"
    assert (row["a_external_id"], row["b_external_id"]) == ("A1", "B1")
    assert row["source_doc_id"] == "a1" and row["derived_doc_id"] == "b1"
    assert row["derivation"] == "wholly" and row["strength"] == 0.9
    assert (row["a_coverage"], row["b_coverage"]) == (0.4, 0.9)


def test_a_later_article_adding_much_of_its_own_is_partially_derived():
    a = _doc("a1", "2014-12-01", [(0, 600)])
    b = _doc("b1", "2014-12-02", [(0, 2000)])
    row = derivation_row(a, b, [_m((0, 300), (100, 400), aw=0.6, bw=0.3)])
    assert row["derivation"] == "partially" and row["derived_doc_id"] == "b1"


def test_the_earlier_side_covered_by_a_later_long_article_is_not_what_is_judged():
    """An independent long report of the same event contains most of a short agency item's words;
    the item is the earlier one, so it cannot be derived from the report."""
    a = _doc("a1", "2014-12-01", [(0, 300)])
    b = _doc("b1", "2014-12-02", [(0, 3000)])
    row = derivation_row(a, b, [_m((0, 80), (1000, 1080), method="phrases", aw=0.8, bw=0.1)])
    assert row["derivation"] == "non" and row["derived_doc_id"] is None and row["source_doc_id"] == "a1"


def test_same_day_pairs_are_judged_both_ways_without_a_source():
    a = _doc("a1", "2015-07-21", [(0, 300)])
    b = _doc("b1", "2015-07-21", [(0, 3000)])
    row = derivation_row(a, b, [_m((0, 280), (0, 280), aw=0.95, bw=0.1)])
    assert row["source_doc_id"] is None and row["derivation"] == "wholly" and row["derived_doc_id"] == "a1"


def test_templates_are_not_copies_and_retold_sentences_do_not_make_copies():
    a = _doc("a1", "2015-07-21", [(0, 500)])
    b = _doc("b1", "2015-07-22", [(0, 500)])
    only_templates = [_m((0, 490), (0, 490), kind="template", aw=0.9, bw=0.9)]
    row = derivation_row(a, b, only_templates)
    assert row["derivation"] == "non" and row["n_templates"] == 1
    assert row["b_coverage"] == 0.98  # the contract's coverage counts every match
    retold = [_m((0, 490), (0, 490), method="rewrite", aw=0.3, bw=0.3)]
    row = derivation_row(a, b, retold)
    assert row["b_copied"] == 0.0 and row["b_coverage"] == 0.98
    assert row["strength"] == 0.3 and row["derivation"] == "partially"  # from the words, not the retold span


def test_rows_are_sorted_deterministic_and_skip_missing_documents():
    docs = {f"d{i}": {"external_id": f"e{i}", "published": f"2014-12-0{i}", "text": "x" * 100} for i in range(1, 6)}
    pairs = {("d1", "d2"): [{"a_doc_id": "d1", "b_doc_id": "d2", **_m((0, 90), (0, 90), aw=0.9, bw=0.9)}],
             ("d3", "d4"): [{"a_doc_id": "d4", "b_doc_id": "d3", **_m((0, 10), (50, 100), aw=0.1, bw=0.7)}],
             ("d1", "d9"): [{"a_doc_id": "d1", "b_doc_id": "d9", **_m((0, 10), (0, 10))}]}
    rows = derivation_rows(pairs, docs)
    assert [(r["a_doc_id"], r["b_doc_id"]) for r in rows] == [("d1", "d2"), ("d3", "d4")]
    swapped = rows[1]  # the stored match had d4 on its a side: spans and words follow their documents
    assert (swapped["a_coverage"], swapped["b_coverage"]) == (0.5, 0.1) and swapped["b_words"] == 0.1
    items = list(pairs.items())
    random.Random(3).shuffle(items)
    assert derivation_rows(dict(items), docs) == rows
