"""The claim explorer's plain parts: parameter parsing, the word diff, links, the catalog, the charts."""

from __future__ import annotations

import datetime as dt

import pytest

from newsdedup.web import charts
from newsdedup.web.catalog import build_catalog, day_of, derived_side
from newsdedup.web.diff import word_diff
from newsdedup.web.links import claim_url, configured_base_url, document_url
from newsdedup.web.params import BadRequest, Param, check_id, parse

SPEC = (Param("q"), Param("kind", "choice", "claim", choices=("claim", "all")), Param("n", "int", 1, low=1, high=50),
        Param("from", "date"))


# ---------------------------------------------------------------------- params
def test_params_are_literal_values_of_known_names():
    v = parse([("q", '{"$where": "1"}'), ("n", "3"), ("from", "2015-07-21")], SPEC)
    assert v == {"q": '{"$where": "1"}', "kind": "claim", "n": 3, "from": dt.date(2015, 7, 21).toordinal()}
    assert parse([("q", "  "), ("n", "")], SPEC)["q"] is None  # empty form fields are unset


@pytest.mark.parametrize("pairs, word", [
    ([("q[$ne]", "x")], "unknown parameter"),
    ([("q", "a"), ("q", "b")], "more than once"),
    ([("n", "0")], "between"),
    ([("n", "1e3")], "whole number"),
    ([("n", "٣")], "whole number"),  # an Arabic-Indic digit is not silently read as 3
    ([("kind", "$where")], "one of"),
    ([("from", "2015-7-1")], "YYYY-MM-DD"),
    ([("from", "2015-02-30")], "YYYY-MM-DD"),
    ([("q", "x" * 501)], "longer"),
    ([("q", "a\x00b")], "NUL"),
])
def test_bad_parameters_are_refused_with_the_reason(pairs, word):
    with pytest.raises(BadRequest, match=word):
        parse(pairs, SPEC)


def test_ids_from_the_path():
    assert check_id("abc:0001-0002", "claim") == "abc:0001-0002"
    for bad in ("", "x" * 201, "a\nb"):
        with pytest.raises(BadRequest):
            check_id(bad, "claim")


# ---------------------------------------------------------------------- diff
def test_word_diff_marks_shared_dropped_added_changed_on_the_received_text():
    left = "موقع ديبكا الإسرائيلي، يرى أن الرئيس الروسي"
    right = 'موقع "ديبكا" الاسرائيلي قد كشف أن الرئيس'
    d = word_diff(left, right)
    assert "".join(p.text for p in d.left) == left  # nothing lost or added to the texts shown
    assert "".join(p.text for p in d.right) == right
    kinds_l = {p.text: p.kind for p in d.left}
    kinds_r = {p.text: p.kind for p in d.right}
    assert kinds_l["موقع ديبكا الإسرائيلي"] == "shared"  # alef with hamza folds: not a change
    assert kinds_r['موقع "ديبكا" الاسرائيلي'] == "shared"
    assert kinds_l["الروسي"] == "dropped"  # at the end, nothing added in its place
    assert kinds_l["يرى"] == "changed" and kinds_r["قد كشف"] == "changed"  # a short rewording
    assert d.counts == {"dropped": 1, "added": 0, "changed": 2} and d.shared_words == 5


def test_word_diff_long_runs_are_dropped_and_added():
    left = "one two three four five six seven end"
    right = "alpha beta gamma delta epsilon zeta end more"
    d = word_diff(left, right)
    assert [p.kind for p in d.left] == ["dropped", "plain", "shared"]
    assert [p.kind for p in d.right] == ["added", "plain", "shared", "plain", "added"]
    assert d.counts == {"dropped": 7, "added": 7, "changed": 0}


def test_word_diff_of_identical_and_empty_texts():
    d = word_diff("a b c", "a b c")
    assert [p.kind for p in d.left] == ["shared"] and d.shared_share == 1.0
    e = word_diff("", "new words")
    assert [p.kind for p in e.right] == ["added"] and e.counts["added"] == 2


# ---------------------------------------------------------------------- links
def test_claim_links(monkeypatch):
    assert claim_url("http://127.0.0.1:8765/", "abc:00000001-00000795") == \
        "http://127.0.0.1:8765/claims/abc%3A00000001-00000795"
    assert document_url("http://h/x", "d/1") == "http://h/x/documents/d%2F1"
    monkeypatch.setenv("NEWSDEDUP_WEB_URL", "javascript:alert(1)")
    assert configured_base_url() is None
    monkeypatch.setenv("NEWSDEDUP_WEB_URL", " https://explorer.example/ ")
    assert configured_base_url() == "https://explorer.example/"
    monkeypatch.delenv("NEWSDEDUP_WEB_URL")
    assert configured_base_url() is None


# ---------------------------------------------------------------------- catalog
def _docs():
    seg = lambda s, e, bp=False: [s, e, 1, 0, "ar", 0.99, bp, "dateline" if bp else None]  # noqa: E731
    return [
        {"_id": "d1", "outlet": "A", "published": "2015-07-21T08:00:00", "external_id": "e1",
         "segments": [seg(0, 100), seg(100, 120, True)]},
        {"_id": "d2", "outlet": "B", "published": "2015-07-22", "external_id": "e2", "segments": [seg(0, 200)]},
        {"_id": "d3", "outlet": "B", "published": None, "external_id": "e3", "segments": [seg(0, 50)],
         "duplicate_of": "d2"},
        {"_id": "d4", "outlet": "C", "published": "2015-07-25", "external_id": "e4", "segments": [seg(0, 80)]},
    ]


def _clusters(kinds=True):
    def c(cid, kind, members, fs, n, attribution=None, text="نص"):
        row = {"_id": cid, "cluster_id": cid, "size": len(members), "n_outlets": n,
               "outlets": sorted({m["outlet"] for m in members}),
               "first_seen": fs, "representative": text, "attribution": attribution, "members": members}
        if kinds:
            row.update(kind=kind, confidence=0.9)
        return row

    m = lambda d, o, s, e, t: {"doc_id": d, "outlet": o, "start": s, "end": e, "text": t}  # noqa: E731
    fs1 = {"doc_id": "d1", "outlet": "A", "published": "2015-07-21T08:00:00"}
    return [
        c("c1", "claim", [m("d1", "A", 0, 60, "قال مصدر إن الحكومة قررت تأجيل الانتخابات"),
                          m("d2", "B", 10, 70, "قال مصدر ان الحكومة قررت تاجيل الانتخابات البلدية")], fs1, 2, "رويترز"),
        c("c2", "template", [m("d1", "A", 60, 90, "اقرأ أيضا"), m("d2", "B", 0, 20, "اقرأ أيضا"),
                             m("d4", "C", 0, 20, "اقرأ أيضا")], fs1, 3),
        c("c3", "self", [m("d2", "B", 100, 150, "نشرة الطقس"), m("d3", "B", 0, 40, "نشرة الطقس")],
          {"doc_id": "d2", "outlet": "B", "published": "2015-07-22"}, 1),
    ]


def test_catalog_orders_filters_and_searches_claims():
    cat = build_catalog("g1", _docs(), _clusters(), None)
    assert cat.kinds_computed and not cat.has_derivations
    assert [r.cluster_id for r in cat.claims] == ["c2", "c1", "c3"]  # widest spread first
    ids = lambda rows: [r.cluster_id for r in rows[0]]  # noqa: E731
    assert ids(cat.filter_claims()) == ["c1"]  # claims only by default
    assert ids(cat.filter_claims(kind="all")) == ["c2", "c1", "c3"]
    assert ids(cat.filter_claims(kind="all", min_outlets=3)) == ["c2"]
    assert ids(cat.filter_claims(kind="all", outlet="C")) == ["c2"]
    assert ids(cat.filter_claims(attribution="رويتر")) == ["c1"]
    day = dt.date(2015, 7, 22).toordinal()
    assert ids(cat.filter_claims(kind="all", day_from=day)) == ["c3"]
    assert ids(cat.filter_claims(kind="all", day_to=day - 1)) == ["c2", "c1"]
    rows, scores = cat.filter_claims(q="الحكومة قررت تأجيل الانتخابات")
    assert ids((rows,)) == ["c1"] and scores[rows[0].idx] >= 70
    assert cat.filter_claims(q='{"$where": "1"}')[0] == []
    c1 = next(r for r in cat.claims if r.cluster_id == "c1")
    assert c1.days == ((dt.date(2015, 7, 21).toordinal(), 1), (day, 1)) and c1.n_docs == 2
    assert cat.duplicates == {"d2": ["d3"]}
    a, b = cat.outlets["A"], cat.outlets["B"]
    assert (a.documents, a.chars, a.boilerplate_chars) == (1, 120, 20)
    assert b.reused_chars == 60  # its member of the claim first seen at A (the template is not a claim)
    assert a.first_seen_claims == 1 and b.first_seen_claims == 0


def test_catalog_of_a_database_without_kinds():
    cat = build_catalog("g", _docs(), _clusters(kinds=False), None)
    assert not cat.kinds_computed
    assert [r.cluster_id for r in cat.filter_claims()[0]] == ["c2", "c1"]  # two or more outlets
    assert cat.filter_claims(kind="template")[0] == []


def test_catalog_derivation_matrix_and_copied_share():
    derivs = [
        {"a_doc_id": "d1", "b_doc_id": "d2", "a_coverage": 0.5, "b_coverage": 0.3, "source_doc_id": "d1",
         "derivation": "partially"},
        {"a_doc_id": "d1", "b_doc_id": "d4", "a_coverage": 0.2, "b_coverage": 0.9, "source_doc_id": "d1",
         "derivation": "wholly"},
        {"a_doc_id": "d2", "b_doc_id": "d4", "a_coverage": 0.1, "b_coverage": 0.1, "source_doc_id": "d2",
         "derivation": "non"},  # shares text, derived from neither
        {"a_doc_id": "d3", "b_doc_id": "d4", "a_coverage": 0.1, "b_coverage": 0.4, "source_doc_id": None,
         "derived_doc_id": "d4", "derivation": "partially"},  # no known source date: the derived side is named
    ]
    cat = build_catalog("g", _docs(), _clusters(), derivs)
    assert cat.has_derivations and cat.n_derivations == 4
    assert cat.matrix == {("A", "B"): [1, 0], ("A", "C"): [1, 1], ("B", "C"): [1, 0]}
    assert cat.outlets["C"].derived_documents == 1  # d4 counts once, with its best coverage
    assert cat.outlets["B"].derived_documents == 1 and cat.outlets["C"].wholly_documents == 1
    assert cat.outlets["C"].copied_chars == pytest.approx(0.9 * 80)
    assert cat.outlets["B"].copied_chars == pytest.approx(0.3 * 200)


def test_derived_side():
    assert derived_side({"a_doc_id": "a", "b_doc_id": "b", "source_doc_id": "a"}) == "b"
    assert derived_side({"a_doc_id": "a", "b_doc_id": "b", "source_doc_id": "b"}) == "a"
    assert derived_side({"a_doc_id": "a", "b_doc_id": "b", "source_doc_id": None, "derived_doc_id": "a"}) == "a"
    assert derived_side({"a_doc_id": "a", "b_doc_id": "b", "source_doc_id": None}) is None


# ---------------------------------------------------------------------- charts
def test_timeline_lanes_and_first_seen():
    members = [("d2", "B", "2015-07-22"), ("d1", "A", "2015-07-21T06:00:00"), ("d3", "B", None),
               ("d1", "A", "2015-07-21T06:00:00")]
    tl = charts.timeline(members, "d1")
    assert [lane.outlet for lane in tl.lanes] == ["A", "B"]  # in order of first appearance
    a, b = tl.lanes
    assert a.first and [p.first for p in a.points] == [True] and len(a.points) == 1  # one point per document
    assert b.points[0].x > a.points[0].x and len(b.undated) == 1 and tl.undated_x is not None
    assert [label for _, label in tl.ticks] == ["2015-07-21", "2015-07-22"]
    one_day = charts.timeline([("x", "A", "2016-11-30"), ("y", "B", "2016-11-30")], "x")
    assert one_day.lanes[0].points[0].x == one_day.lanes[1].points[0].x  # same day, same place
    assert charts.when("2015-07-21T12:00:00") == day_of("2015-07-21") + 0.5 == charts.when("2015-07-21")


def test_spark_and_heat():
    s = charts.spark(((10, 1), (12, 4)), 1, 10, 10, 20)
    assert len(s.bars) == 2 and s.first_x == s.bars[0][0]
    assert "5 documents over 3 days" in s.label and "1 without a date" in s.label
    assert charts.heat(0, 10) == "#ffffff" and charts.heat(10, 10) == "#005a6e"
    assert charts.ink(10, 10) == "#ffffff" and charts.ink(1, 100) == "#1a1a1a"


def test_word_diff_folds_a_stray_shared_word_into_the_difference():
    left = "قال الوزير أمس في مؤتمر صحفي عقده بالعاصمة"
    right = "أعلنت الشركة اليوم في بيان نشرته على موقعها"
    d = word_diff(left, right)
    assert d.shared_words == 0  # «في» inside two different sentences is not shared text
    assert {p.kind for p in d.left} <= {"dropped", "plain"} and {p.kind for p in d.right} <= {"added", "plain"}
