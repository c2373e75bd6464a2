"""``query search`` ranks the claim, not a word of it, and keeps its word index current (issue #15, point 8)."""

from __future__ import annotations

import json

import pytest

from conftest import cli, read_jsonl
from newsdedup.query import claim_score
from newsdedup.tasks.normalize import normalize_text
from newsdedup.tasks.search_index import SearchIndex

CLAIM = "أعلنت وزارة الصحة في الرياض تسجيل مئة وعشرين إصابة جديدة بفيروس كورونا خلال الأسبوع الماضي"


def test_a_piece_of_the_claim_does_not_outrank_it():
    q = normalize_text(CLAIM)
    assert claim_score(q, q) == 100
    assert claim_score(q, normalize_text("وقالت المصادر إن " + CLAIM + " في عدة مناطق")) >= 95
    assert claim_score(q, normalize_text("الرياض")) < 20  # found whole inside the claim, but only a word of it
    assert claim_score(q, normalize_text("أعلنت وزارة الصحة")) < 40
    retold = CLAIM.replace("مئة وعشرين", "120").replace("الماضي", "المنصرم")
    assert claim_score(q, normalize_text(retold)) >= 80


def test_index_grows_by_segments_and_finds_entries(tmp_path):
    def doc(i, text, outlet="o"):
        return {"_id": f"d{i:03d}", "outlet": outlet, "published": f"2015-08-{i % 28 + 1:02d}", "ingest_seq": i,
                "text": text, "segments": [[0, len(text), 0, 0, "ar", 1.0, False, None]]}

    idx = SearchIndex(tmp_path / "ix")
    idx.add([doc(i, f"خبر رقم {i} عن موضوع عادي") for i in range(50)], token="t1")
    idx.add([doc(50, CLAIM, "was")], token="t2")
    for k in range(8):  # more segments than MAX_SEGMENTS: merged, nothing lost
        idx.add([doc(60 + k, f"نص إضافي {k} في الرياض")], token=f"t{3 + k}")
    again = SearchIndex(tmp_path / "ix")
    assert len(again) == 59 and again.max_seq == 67 and again.token == "t10"
    hits = again.candidates(normalize_text(CLAIM), limit=5)
    assert hits[0].doc_id == "d050" and hits[0].outlet == "was" and hits[0].coverage == pytest.approx(1.0)
    assert again.candidates(normalize_text(CLAIM), keep=lambda o, p: o == "nobody") == []


@pytest.mark.slow
def test_search_ranks_the_exact_claim_first_end_to_end(prefect_api, db_name, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    records = []
    for i, outlet in enumerate(["وكالة الأنباء", "صحيفة الوطن", "صحيفة عكاظ"]):
        records.append({"id": f"claim-{i}", "outlet": outlet, "published": f"2015-08-10 0{i}:00:00",
                        "text": f"الرياض\n{CLAIM}.\nوأضاف البيان أن الحالات تتلقى العلاج في مستشفيات المدينة رقم {i}."})
    for i in range(3):  # one-word lines that repeat across outlets
        records.append({"id": f"word-{i}", "outlet": f"منفذ {i}", "published": "2015-08-11",
                        "text": f"الرياض\nافتتح أمير المنطقة معرضا للكتاب يضم {i + 5}00 دار نشر من عدة دول عربية."})
    (inbox / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    cli("run", str(inbox), "--db", db_name, "--quiet")
    rows = read_jsonl(cli("query", "search", CLAIM, "--json", "--db", db_name).stdout)
    assert rows, "nothing found"
    top = rows[0]
    assert top["kind"] == "cluster" and top["n_outlets"] == 3, top
    assert CLAIM in top["matched_passage"]["text"]
    assert top["first_seen"]["published"] == "2015-08-10T00:00:00"
    assert all(r["matched_passage"]["text"].strip() != "الرياض" for r in rows)
    # a new run's documents are searchable at once (the index follows the database)
    (inbox / "more.jsonl").write_text(json.dumps({"id": "late", "outlet": "صحيفة المدينة", "text":
                                                  "خبر جديد تماما عن سباق الهجن في الطائف هذا العام"},
                                                 ensure_ascii=False), encoding="utf-8")
    cli("run", str(inbox), "--db", db_name, "--quiet")
    late = read_jsonl(cli("query", "search", "سباق الهجن في الطائف", "--json", "--db", db_name).stdout)
    assert late and late[0]["kind"] == "passage" and late[0]["outlets"] == ["صحيفة المدينة"]
