"""Bad input end to end: ``newsdedup run`` (console script, real server, real Prefect API) on one folder
holding every kind of broken or unusual input real archives contain.

Each input either ingests correctly (text and encoding checked in the database) or lands in ``rejects``
with file, record and reason; the rest of the run goes on, the CLI prints a summary and exits 0. It exits
non-zero with one line on stderr only when nothing at all could be read.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from pathlib import Path

import pymongo
import pytest

from conftest import cli, read_jsonl

pytestmark = pytest.mark.slow

AR_CP1256 = "أعلنت وزارة الخارجية اليوم أن الوفد سيصل إلى الرياض مساء الخميس لبحث ملف المياه.\nوقال المتحدث إن المحادثات «إيجابية»."
AR_UTF16 = "قالت مصادر مطلعة إن الحكومة تدرس خطة جديدة لدعم المزارعين في المناطق الجنوبية خلال الموسم المقبل."
AR_CRLF = "السطر الأول من الخبر عن افتتاح المعرض الدولي للكتاب.\r\nالسطر الثاني يذكر عدد الناشرين المشاركين.\r\n"
AR_LOCKED = "نص في ملف لا يمكن قراءته إلا بصلاحيات المدير، عن اجتماع مجلس الوزراء الأسبوعي."
AR_NUL_TXT = "خبر قصير عن حالة الطقس\x00 في العاصمة، مع توقعات بأمطار غزيرة غدا."
AR_GOOD1 = "افتتح الرئيس مشروعا جديدا للطاقة الشمسية في الصحراء الغربية بطاقة ألف ميغاواط."
AR_GOOD2 = "ارتفعت أسعار النفط في التعاملات الآسيوية.\r\nوقال محللون إن المخزونات تراجعت."
AR_BADDATE = "أكد وزير التعليم أن العام الدراسي سيبدأ في موعده رغم الظروف الصعبة التي تمر بها البلاد."


def _mongo(db_name: str) -> pymongo.database.Database:
    uri = cli("db", "uri", "--db", db_name).stdout.strip()
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=10_000).get_default_database()


def _build_inputs(root: Path) -> dict:
    inbox = root / "in"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "blank.txt").write_bytes(b" \t\r\n  \n\t\n")
    (inbox / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)
    (inbox / "arabic-cp1256.txt").write_bytes(AR_CP1256.encode("cp1256"))
    (inbox / "arabic-utf16.txt").write_bytes(codecs.BOM_UTF16_LE + AR_UTF16.encode("utf-16-le"))
    (inbox / "arabic-crlf.txt").write_bytes(AR_CRLF.encode("utf-8"))
    (inbox / "with-nul.txt").write_bytes(AR_NUL_TXT.encode("utf-8"))
    # 50 MB: over the 20 MB limit of one text; rejected from its size, never read whole.
    with open(inbox / "huge.txt", "wb") as f:
        chunk = ("نص طويل جدا " * 1000).encode("utf-8")
        while f.tell() < 50_000_000:
            f.write(chunk)
    locked = inbox / "locked.txt"
    locked.write_text(AR_LOCKED, encoding="utf-8")
    locked.chmod(0)
    lines = [
        json.dumps({"id": "good-1", "text": AR_GOOD1, "outlet": "وكالة أ", "published": "2016-11-30"},
                   ensure_ascii=False),
        '{"id": "broken", "text": "نص مقطوع',                                   # 2: malformed JSON
        json.dumps({"id": "no-text", "title": "عنوان بلا نص"}, ensure_ascii=False),  # 3: no text
        json.dumps({"id": "num-text", "text": 12345}),                           # 4: text not a string
        json.dumps({"id": "bad-date", "text": AR_BADDATE, "published": "32/13/2015"}, ensure_ascii=False),
        '{"id": "nul", "text": "خبر فيه\\u0000 حرف فارغ عن الانتخابات البلدية المقبلة"}',   # 6: NUL escape
        '{"id": "surrogate", "text": "خبر فيه \\ud800 نصف حرف عن مباراة كرة القدم"}',       # 7: lone surrogate
        json.dumps({"id": "good-2", "text": AR_GOOD2, "outlet": "وكالة ب"}, ensure_ascii=False),
    ]
    (inbox / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = root / "meta.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "outlet", "url", "published", "title"])
        w.writerow(["arabic-cp1256.txt", "صحيفة قديمة", "http://example.com/a", "not a date", "خبر الوفد"])  # line 2
        w.writerow(["missing-1.txt", "x", "", "2016-01-01", ""])                                          # line 3
        w.writerow(["arabic-crlf.txt", "صحيفة الكتاب", "", "2016-12-01", ""])                             # line 4
        w.writerow(["missing-2.txt", "y", "", "", ""])                                                    # line 5
    vanished = root / "vanished" / "gone.txt"  # named on the command line, does not exist
    return {"inbox": inbox, "manifest": manifest, "vanished": vanished, "locked": locked}


def _reject(rejects: list[dict], name: str, record=None) -> dict:
    hits = [r for r in rejects if r["source_path"].endswith(name) and r["record"] == record]
    assert len(hits) == 1, f"expected one reject for {name} record {record}, got {hits} among {rejects}"
    assert hits[0]["reason"] and hits[0]["run_id"]
    return hits[0]


def test_every_kind_of_bad_input_is_stored_or_rejected(prefect_api, db_name, tmp_path):
    inp = _build_inputs(tmp_path)
    can_read_locked = os.access(inp["locked"], os.R_OK)  # root ignores chmod 000
    try:
        proc = cli("run", str(inp["inbox"]), str(inp["vanished"]), "--manifest", str(inp["manifest"]),
                   "--db", db_name)
    finally:
        inp["locked"].chmod(0o644)
    assert proc.returncode == 0
    out = proc.stdout
    assert "completed" in out and "rejected" in out and "documents" in out
    assert proc.stderr.strip() == ""  # logs go to the Prefect API, stderr stays for errors

    db = _mongo(db_name)
    try:
        docs = {d["external_id"]: d for d in db.documents.find()}
        rejects = read_jsonl(cli("export", "rejects", "--db", db_name).stdout)

        # ---- stored, with text and encoding as received
        d = docs["arabic-cp1256"]
        assert d["text"] == AR_CP1256 and d["encoding"] == "cp1256"
        assert d["outlet"] == "صحيفة قديمة" and d["url"] == "http://example.com/a"
        assert d["published"] is None and d["published_raw"] == "not a date"  # manifest date that does not parse
        assert any("date did not parse" in n for n in d["notes"])
        d = docs["arabic-utf16"]
        assert d["text"] == AR_UTF16 and d["encoding"].startswith("utf-16")
        d = docs["arabic-crlf"]
        assert d["text"] == AR_CRLF and "\r\n" in d["text"] and d["encoding"].startswith("utf-8")
        assert d["outlet"] == "صحيفة الكتاب" and d["published"] == "2016-12-01"
        d = docs["with-nul"]
        assert d["text"] == AR_NUL_TXT.replace("\x00", "") and any("NUL" in n for n in d["notes"])
        assert docs["good-1"]["text"] == AR_GOOD1 and docs["good-1"]["published"] == "2016-11-30"
        assert docs["good-2"]["text"] == AR_GOOD2 and docs["good-2"]["outlet"] == "وكالة ب"
        d = docs["bad-date"]
        assert d["text"] == AR_BADDATE and d["published"] is None and d["published_raw"] == "32/13/2015"
        assert docs["nul"]["text"] == "خبر فيه حرف فارغ عن الانتخابات البلدية المقبلة"
        assert docs["surrogate"]["text"] == "خبر فيه \ufffd نصف حرف عن مباراة كرة القدم"
        assert any("surrogate" in n for n in docs["surrogate"]["notes"])
        if can_read_locked:
            assert docs["locked"]["text"] == AR_LOCKED
        else:
            assert "permission" in _reject(rejects, "locked.txt")["reason"]
        expected = {"arabic-cp1256", "arabic-utf16", "arabic-crlf", "with-nul", "good-1", "good-2", "bad-date",
                    "nul", "surrogate"} | ({"locked"} if can_read_locked else set())
        assert set(docs) == expected
        assert all(doc["segments"] and doc["lang"] for doc in docs.values())  # analyzed

        # ---- every stored document is segmented, offsets index the text as stored
        for doc in docs.values():
            ps = list(db.passages.find({"doc_id": doc["doc_id"]}))
            assert ps, doc["external_id"]
            for p in ps:
                assert doc["text"][p["start"]:p["end"]] == p["text"]
        export = {r["external_id"]: r for r in read_jsonl(cli("export", "documents", "--db", db_name).stdout)}
        assert export["arabic-cp1256"]["text"] == AR_CP1256 and export["arabic-crlf"]["text"] == AR_CRLF

        # ---- rejected, with file, record and reason
        assert "empty" in _reject(rejects, "empty.txt")["reason"]
        assert "whitespace" in _reject(rejects, "blank.txt")["reason"]
        assert "PNG" in _reject(rejects, "picture.txt")["reason"] or "binary" in _reject(rejects, "picture.txt")["reason"]
        assert "too large" in _reject(rejects, "huge.txt")["reason"]
        _reject(rejects, "records.jsonl", 2)
        assert "text" in _reject(rejects, "records.jsonl", 3)["reason"]
        assert "string" in _reject(rejects, "records.jsonl", 4)["reason"]
        assert "does not exist" in _reject(rejects, "gone.txt")["reason"]
        assert "missing-1.txt" in _reject(rejects, "meta.csv", 3)["reason"]
        assert "missing-2.txt" in _reject(rejects, "meta.csv", 5)["reason"]
        assert len(rejects) == 10 + (0 if can_read_locked else 1)

        run = db.runs.find_one({"status": "completed"})
        assert run and run["counts"]["documents"] == len(expected)
        assert run["counts"]["rejects"] == len(rejects)
    finally:
        db.client.close()

    # ---- a second run on the same input adds nothing (documents nor rejects)
    again = cli("run", str(inp["inbox"]), str(inp["vanished"]), "--manifest", str(inp["manifest"]),
                "--db", db_name, "--json")
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["counts"]["documents"] == 0
    assert summary["totals"]["documents"] == len(expected)
    assert summary["totals"]["rejects"] == len(rejects)


def test_nothing_readable_exits_nonzero_with_one_line(prefect_api, db_name, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    (tmp_path / "bad.jsonl").write_text('{"text": 1}\n{nope\n', encoding="utf-8")
    proc = cli("run", str(tmp_path / "empty.txt"), str(tmp_path / "picture.txt"), str(tmp_path / "bad.jsonl"),
               str(tmp_path / "nowhere.txt"), "--db", db_name, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("newsdedup: ") and "nothing could be read" in lines[0]
    rejects = read_jsonl(cli("export", "rejects", "--db", db_name).stdout)
    assert len(rejects) == 5  # empty, picture, two records, the missing path


def test_folder_junk_is_skipped_not_rejected(prefect_api, db_name, tmp_path):
    """A folder copied from a Mac or Windows share holds ``.DS_Store`` and ``Thumbs.db`` next to the
    articles: the real ``newsdedup run`` reads the article and skips the junk (no rejects), in the
    folder and in its sub-folders alike, because the flow and the readers walk with the same walker."""
    inbox = tmp_path / "share"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "article.txt").write_text(AR_GOOD1, encoding="utf-8")
    (inbox / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(range(64)))
    (inbox / "sub" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    (inbox / "sub" / "._article.txt").write_bytes(b"\x00\x05\x16\x07" + bytes(32))
    proc = cli("run", str(inbox), "--db", db_name, "--json")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["counts"]["documents"] == 1 and summary["counts"]["rejects"] == 0, summary["counts"]
    assert read_jsonl(cli("export", "rejects", "--db", db_name).stdout) == []
    run = _mongo(db_name).runs.find_one({"run_id": summary["run_id"]})
    assert [Path(i["path"]).name for i in run["inputs"]] == ["article.txt"]
