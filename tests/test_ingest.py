"""Ingest: real files written into tmp_path, read back as Documents or Rejects. No mocks."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from newsdedup.tasks.ids import make_doc_id
from newsdedup.tasks.readers import (
    Document,
    InputFile,
    Reject,
    decode_bytes,
    iter_inputs,
    parse_map,
    read_manifest,
)

ARABIC = (
    "حدد رئيس الوزراء البريطاني ملامح استراتيجية للتصدي للتطرف داخل بريطانيا، "
    "وهي مسألة اعتبرها صراع جيلنا، متعهدا خلال خطابه في مدينة بيرمنغهام بالتصدي "
    "لهؤلاء الذين ينشرون التطرف بين الشبان.\n"
    "ورسم الإطار العام لاستراتيجية مكافحة التطرف التي من المقرر أن تنشر كاملة في وقت لاحق "
    "هذا العام، والتي تسعى للتصدي لانتشار الأفكار المتطرفة؟ قال المتحدث: نعم.\n"
)
ARABIC_SHORT = "قال وزير الخارجية إن المفاوضات مستمرة"
FRENCH = "Le président a déclaré que la réunion était très importante pour l'économie française. Où est-ce ?\n"
SNN_MAP = "text=content,outlet=source,published=date_extracted"


def run(paths, **kw):
    items = list(iter_inputs([str(p) for p in paths], **kw))
    docs = [i for i in items if isinstance(i, Document)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(docs) + len(rejects) == len(items)
    return docs, rejects


def one_doc(path, **kw) -> Document:
    docs, rejects = run([path], **kw)
    assert rejects == [], rejects
    assert len(docs) == 1, docs
    return docs[0]


def one_reject(path, **kw) -> Reject:
    docs, rejects = run([path], **kw)
    assert docs == [], docs
    assert len(rejects) == 1, rejects
    return rejects[0]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# --------------------------------------------------------------------------- .txt


def test_txt_utf8_document_fields(tmp_path):
    p = write(tmp_path / "001_abc.txt", ARABIC)
    d = one_doc(p)
    assert d.external_id == "001_abc"
    assert d.source_path == str(p)
    assert d.source_kind == "txt"
    assert d.record is None
    assert d.text == ARABIC
    assert d.encoding == "utf-8"
    assert d.content_sha256 == hashlib.sha256(ARABIC.encode()).hexdigest()
    assert d.doc_id == make_doc_id("txt", "001_abc", d.content_sha256)
    assert d.doc_id == hashlib.sha256(f"txt\x1f001_abc\x1f{d.content_sha256}".encode()).hexdigest()[:24]
    assert (d.outlet, d.title, d.url, d.published, d.published_raw, d.language) == (None,) * 6
    assert d.notes == ()


def test_txt_only_leading_bom_removed(tmp_path):
    text = "عنوان\ufeffداخلي\n"
    d = one_doc(write(tmp_path / "a.txt", b"\xef\xbb\xbf" + text.encode()))
    assert d.text == text  # the inner U+FEFF is text as received
    assert d.encoding == "utf-8-sig"


def test_txt_crlf_and_trailing_whitespace_kept(tmp_path):
    text = "السطر الأول\r\nالسطر الثاني  \r\n\r\n"
    d = one_doc(write(tmp_path / "a.txt", text))
    assert d.text == text
    assert "\r\n" in d.text


@pytest.mark.parametrize(
    ("codec", "data_fn", "expected"),
    [
        ("utf-16", lambda t: codecs_bom("le") + t.encode("utf-16-le"), "utf-16"),
        ("utf-16", lambda t: codecs_bom("be") + t.encode("utf-16-be"), "utf-16"),
        ("utf-16-le", lambda t: t.encode("utf-16-le"), "utf-16-le"),
        ("utf-16-be", lambda t: t.encode("utf-16-be"), "utf-16-be"),
        ("utf-32", lambda t: t.encode("utf-32"), "utf-32"),
        ("cp1256", lambda t: t.encode("cp1256"), "cp1256"),
        ("iso-8859-6", lambda t: t.encode("iso-8859-6"), "iso-8859-6"),
    ],
)
def test_txt_arabic_encodings_detected(tmp_path, codec, data_fn, expected):
    d = one_doc(write(tmp_path / "a.txt", data_fn(ARABIC)))
    assert d.text == ARABIC
    assert d.encoding == expected
    assert d.notes == ()


def codecs_bom(order: str) -> bytes:
    return b"\xff\xfe" if order == "le" else b"\xfe\xff"


@pytest.mark.parametrize("codec", ["cp1256", "iso-8859-6"])
def test_txt_short_arabic_legacy(tmp_path, codec):
    d = one_doc(write(tmp_path / "a.txt", ARABIC_SHORT.encode(codec)))
    assert d.text == ARABIC_SHORT
    assert d.encoding == codec


def test_txt_cp1256_with_crlf_and_arabic_punctuation(tmp_path):
    text = ARABIC.replace("\n", "\r\n") + "هل انتهى؟ نعم؛ انتهى.\r\n"
    d = one_doc(write(tmp_path / "a.txt", text.encode("cp1256")))
    assert d.text == text
    assert d.encoding == "cp1256"


def test_txt_latin1_and_cp1252(tmp_path):
    d = one_doc(write(tmp_path / "fr.txt", FRENCH.encode("iso-8859-1")))
    assert d.text == FRENCH
    assert d.encoding == "iso-8859-1"
    smart = "\u201cIt\u2019s over\u201d, he said \u2013 caf\u00e9 na\u00efve r\u00e9sum\u00e9.\n" * 3
    d = one_doc(write(tmp_path / "en.txt", smart.encode("cp1252")))
    assert d.text == smart
    assert d.encoding == "cp1252"


def test_txt_utf8_with_a_few_bad_bytes_kept_with_note(tmp_path):
    raw = ARABIC.encode() * 3
    i = raw.index(b" ", 100)  # between two characters
    raw = raw[:i] + b"\xff" + raw[i:]
    d = one_doc(write(tmp_path / "a.txt", raw))
    assert d.encoding == "utf-8"
    assert d.text.count("\ufffd") == 1
    assert d.text.replace("\ufffd", "") == ARABIC * 3
    assert any("invalid UTF-8" in n for n in d.notes)


def test_txt_nul_bytes_removed_and_noted(tmp_path):
    d = one_doc(write(tmp_path / "a.txt", "خبر\x00 عاجل\x00\x00\n"))
    assert d.text == "خبر عاجل\n"
    assert "removed 3 NUL character(s)" in d.notes
    assert d.content_sha256 == hashlib.sha256(d.text.encode()).hexdigest()


def test_txt_very_long_line(tmp_path):
    text = ("كلمة " * 400_000).strip()  # one 2 MB line
    d = one_doc(write(tmp_path / "a.txt", text))
    assert d.text == text


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (b"", "empty file"),
        (b"   \n\t\r\n  ", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG"),
        (b"%PDF-1.4\n" + bytes(range(256)), "PDF"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "ELF"),
        (bytes(1000), "control characters"),  # all NULs
    ],
    ids=["empty", "whitespace", "png", "pdf", "elf", "nuls"],
)
def test_txt_rejects(tmp_path, data, expect):
    p = write(tmp_path / "bad.txt", data)
    r = one_reject(p)
    assert r.source_path == str(p)
    assert r.record is None
    assert expect in r.reason


def test_txt_random_bytes_rejected(tmp_path):
    rng = random.Random(7)
    for i in range(5):
        data = bytes(rng.randrange(256) for _ in range(4096))
        r = one_reject(write(tmp_path / f"garbage{i}.txt", data))
        assert "binary" in r.reason or "not decodable" in r.reason, r.reason


def test_txt_high_byte_garbage_rejected(tmp_path):
    rng = random.Random(3)
    data = bytes(rng.randrange(0x80, 0x100) for _ in range(4096))
    r = one_reject(write(tmp_path / "garbage.txt", data))
    assert "not decodable" in r.reason


def test_txt_mixed_encodings_garbage_rejected(tmp_path):
    # Alternating chunks of UTF-8, cp1256 and binary: not one text in any encoding.
    rng = random.Random(11)
    parts = []
    for i in range(30):
        parts.append(ARABIC_SHORT.encode("utf-8") if i % 3 == 0 else ARABIC_SHORT.encode("cp1256") if i % 3 == 1
                     else bytes(rng.randrange(256) for _ in range(60)))
    r = one_reject(write(tmp_path / "mixed.txt", b"".join(parts)))
    assert "binary" in r.reason or "not decodable" in r.reason


def test_decode_bytes_directly():
    assert decode_bytes("abc".encode()) == ("abc", "utf-8", [])
    assert isinstance(decode_bytes(b""), str)
    text, enc, notes = decode_bytes(ARABIC.encode("cp1256"))
    assert (text, enc) == (ARABIC, "cp1256")


# --------------------------------------------------------------------------- limits


def test_oversized_txt_rejected_from_size_without_reading(tmp_path):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:  # a real 50 MB file of text
        block = ("نص طويل جدا " * 4000).encode()
        while f.tell() < 50 * 1024 * 1024:
            f.write(block)
    files: list[InputFile] = []
    t = time.perf_counter()
    r = one_reject(p, input_files=files)
    assert time.perf_counter() - t < 1.0
    assert "too large" in r.reason and "20,000,000" in r.reason
    assert files == []  # not read
    # the limit is configurable
    small = write(tmp_path / "small.txt", "كلمة " * 100)
    r = one_reject(small, max_bytes=100)
    assert "too large" in r.reason and "100-byte" in r.reason
    assert one_doc(small, max_bytes=10_000).text.startswith("كلمة")


def test_oversized_record_text_rejected_others_kept(tmp_path):
    p = write(tmp_path / "a.jsonl", jsonl([{"text": "x" * 500}, {"text": "قصير"}]))
    docs, rejects = run([p], max_bytes=200)
    assert [d.text for d in docs] == ["قصير"]
    assert len(rejects) == 1 and rejects[0].record == 1 and "too large" in rejects[0].reason


def test_jsonl_line_longer_than_limit_skipped_alone(tmp_path):
    p = write(tmp_path / "a.jsonl", jsonl([{"text": "a"}, {"text": "b" * 3_000_000}, {"text": "c"}]))
    docs, rejects = run([p], max_bytes=100)  # line limit = 4*100 + 1 MiB
    assert [d.text for d in docs] == ["a", "c"]
    assert [d.record for d in docs] == [1, 3]
    assert rejects[0].record == 2 and "longer than" in rejects[0].reason


def test_large_jsonl_streams_in_bounded_memory(tmp_path):
    p = tmp_path / "big.jsonl"
    body = ARABIC * 10  # ~5 KB of UTF-8 per record
    n = 0
    with open(p, "w", encoding="utf-8") as f:
        while f.tell() < 50 * 1024 * 1024:
            n += 1
            f.write(json.dumps({"id": n, "text": body, "outlet": "x"}, ensure_ascii=False) + "\n")
    tracemalloc.start()
    try:
        count = 0
        for item in iter_inputs([p]):
            assert isinstance(item, Document)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming a 50 MB file"


# --------------------------------------------------------------------------- .jsonl / .json


def test_jsonl_records_ids_and_fields(tmp_path):
    recs = [
        {"id": "A-1", "text": "نص أول", "title": "عنوان", "outlet": "سبق", "url": "http://x/1",
         "published": "2015-07-21 02:51:32", "language": "ar"},
        {"id": 42, "text": "نص ثان"},
        {"text": "نص ثالث", "id": 7.0},
        {"text": "نص رابع", "id": ""},
    ]
    p = write(tmp_path / "feed.jsonl", jsonl(recs))
    docs, rejects = run([p])
    assert rejects == []
    assert [d.external_id for d in docs] == ["A-1", "42", "7", "feed:4"]
    assert [d.record for d in docs] == [1, 2, 3, 4]
    d = docs[0]
    assert (d.source_kind, d.title, d.outlet, d.url, d.language) == ("jsonl", "عنوان", "سبق", "http://x/1", "ar")
    assert (d.published, d.published_raw) == ("2015-07-21T02:51:32", "2015-07-21 02:51:32")
    assert d.encoding == "utf-8"
    assert all(d.source_path == str(p) for d in docs)


def test_jsonl_malformed_line_rejected_others_kept(tmp_path):
    text = jsonl([{"text": "واحد"}]) + '{"text": "اثنان",\n' + "\n" + jsonl([{"text": "ثلاثة"}])
    p = write(tmp_path / "a.jsonl", text)
    docs, rejects = run([p])
    assert [(d.text, d.record, d.external_id) for d in docs] == [("واحد", 1, "a:1"), ("ثلاثة", 4, "a:4")]
    assert len(rejects) == 1
    r = rejects[0]
    assert (r.source_path, r.record) == (str(p), 2)
    assert "line 2" in r.reason and "invalid JSON" in r.reason


def test_jsonl_crlf_lines(tmp_path):
    p = write(tmp_path / "a.jsonl", '{"text": "سطر\\r\\nثان"}\r\n{"text": "ب"}\r\n')
    docs, rejects = run([p])
    assert rejects == []
    assert [d.text for d in docs] == ["سطر\r\nثان", "ب"]


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ('{"title": "بلا نص"}', "has no 'text' field"),
        ('{"text": 5}', "is a number, expected a string"),
        ('{"text": ["a"]}', "is a array, expected a string"),
        ('{"text": null}', "is a null, expected a string"),
        ('{"text": ""}', "is empty"),
        ('{"text": "  \\n "}', "whitespace only"),
        ('"just a string"', "is a JSON string, expected an object"),
        ('[{"text": "x"}]', "is a JSON array, expected an object"),
        ("42", "is a JSON number, expected an object"),
    ],
)
def test_jsonl_bad_records(tmp_path, line, expect):
    p = write(tmp_path / "a.jsonl", '{"text": "جيد"}\n' + line + "\n")
    docs, rejects = run([p])
    assert [d.text for d in docs] == ["جيد"]
    assert len(rejects) == 1
    assert rejects[0].record == 2
    assert expect in rejects[0].reason
    assert "line 2" in rejects[0].reason


def test_lone_surrogates_replaced_and_noted(tmp_path):
    p = write(tmp_path / "a.jsonl", '{"text": "قبل \\ud800 بعد \\udfff", "title": "t\\udc00"}\n'
                                    '{"text": "emoji \\ud83d\\ude00 ok"}\n')
    docs, rejects = run([p])
    assert rejects == []
    d = docs[0]
    assert d.text == "قبل \ufffd بعد \ufffd"
    assert d.title == "t\ufffd"
    assert any("replaced 2 lone surrogate" in n for n in d.notes)
    d.text.encode("utf-8")  # storable
    assert docs[1].text == "emoji \U0001F600 ok" and docs[1].notes == ()


def test_json_nul_in_text_removed(tmp_path):
    d = one_doc(write(tmp_path / "a.json", '[{"text": "a\\u0000b"}]'))
    assert d.text == "ab"
    assert "removed 1 NUL character(s)" in d.notes


def test_jsonl_with_cp1256_bytes_redecoded(tmp_path):
    raw = b'{"text": "' + ARABIC_SHORT.encode("cp1256") + b'", "outlet": "x"}\n'
    d = one_doc(write(tmp_path / "a.jsonl", raw))
    assert d.text == ARABIC_SHORT
    assert d.encoding == "cp1256"
    assert any("decoded as cp1256" in n for n in d.notes)


def test_jsonl_utf16_bom(tmp_path):
    d = one_doc(write(tmp_path / "a.jsonl", jsonl([{"text": ARABIC_SHORT}]).encode("utf-16")))
    assert d.text == ARABIC_SHORT and d.encoding == "utf-16"


def test_json_array_and_record_numbers(tmp_path):
    recs = [{"text": f"نص {i}"} for i in range(1, 4)]
    p = write(tmp_path / "arr.json", json.dumps(recs, ensure_ascii=False, indent=2))
    docs, rejects = run([p])
    assert rejects == []
    assert [(d.record, d.external_id, d.source_kind) for d in docs] == [
        (1, "arr:1", "json"), (2, "arr:2", "json"), (3, "arr:3", "json")]


def test_json_array_with_bad_records(tmp_path):
    p = write(tmp_path / "arr.json", '[{"text": "a"}, "str", {"content": "b"}, {"text": "c"},]')
    docs, rejects = run([p])
    assert [(d.text, d.record) for d in docs] == [("a", 1), ("c", 4)]
    assert [(r.record, r.reason) for r in rejects] == [
        (2, "record 2 is a JSON string, expected an object"),
        (3, "record 3 has no 'text' field"),
    ]


def test_json_truncated_array(tmp_path):
    recs = [{"text": f"خبر رقم {i}", "id": i} for i in range(1, 6)]
    full = json.dumps(recs, ensure_ascii=False, indent=1)
    cut = full[: full.index("خبر رقم 4") + 3]
    p = write(tmp_path / "cut.json", cut)
    docs, rejects = run([p])
    assert [d.external_id for d in docs] == ["1", "2", "3"]
    assert len(rejects) == 1
    r = rejects[0]
    assert r.record == 4 and "truncated" in r.reason and "line" in r.reason
    # cut between records
    p2 = write(tmp_path / "cut2.json", full[: full.index("}") + 2])
    docs, rejects = run([p2])
    assert [d.external_id for d in docs] == ["1"]
    assert "truncated after record 1" in rejects[0].reason


def test_json_malformed_array_position(tmp_path):
    p = write(tmp_path / "bad.json", '[\n{"text": "a"},\n{"text": "b" "c"},\n{"text": "d"}\n]')
    docs, rejects = run([p])
    assert [d.text for d in docs] == ["a"]
    assert len(rejects) == 1
    assert rejects[0].record == 2
    assert "invalid JSON in record 2 at line 3" in rejects[0].reason


def test_json_not_json_at_all(tmp_path):
    r = one_reject(write(tmp_path / "x.json", "hello, world"))
    assert "invalid JSON" in r.reason


def test_json_empty_and_whitespace(tmp_path):
    assert "empty" in one_reject(write(tmp_path / "e.json", b"")).reason
    assert "whitespace" in one_reject(write(tmp_path / "w.json", "  \n ")).reason
    assert "empty" in one_reject(write(tmp_path / "a.json", "[]")).reason


def test_json_single_object_envelope_and_concatenated(tmp_path):
    d = one_doc(write(tmp_path / "one.json", '{"text": "وحيد", "id": "x1"}'))
    assert (d.external_id, d.record) == ("x1", 1)
    docs, rejects = run([write(tmp_path / "env.json", '{"data": [{"text": "a"}, {"text": "b"}], "meta": 1}')])
    assert rejects == [] and [(d.text, d.record, d.external_id) for d in docs] == [("a", 1, "env:1"), ("b", 2, "env:2")]
    docs, rejects = run([write(tmp_path / "cat.json", '{"text": "a"}\n{"text": "b"}\n')])
    assert rejects == [] and [d.text for d in docs] == ["a", "b"]


def test_jsonl_file_holding_pretty_array(tmp_path):
    p = write(tmp_path / "misnamed.jsonl", json.dumps([{"text": "a"}, {"text": "b"}], indent=2))
    docs, rejects = run([p])
    assert rejects == [] and [d.text for d in docs] == ["a", "b"]


def test_json_big_array_streams_across_chunks(tmp_path):
    recs = [{"text": ARABIC + str(i), "id": i, "n": 1234567890123} for i in range(2000)]  # ~1 MB
    p = write(tmp_path / "big.json", json.dumps(recs, ensure_ascii=False))
    docs, rejects = run([p])
    assert rejects == [] and len(docs) == 2000
    assert [d.external_id for d in docs] == [str(i) for i in range(2000)]


def test_dates_that_do_not_parse_keep_doc(tmp_path):
    p = write(tmp_path / "a.jsonl", jsonl([
        {"text": "a", "published": "قبل ساعتين"},
        {"text": "b", "published": "30 نوفمبر 2016"},
        {"text": "c", "published": 1437466292},
        {"text": "d", "published": ""},
    ]))
    docs, rejects = run([p])
    assert rejects == []
    assert [d.published for d in docs] == [None, "2016-11-30", "2015-07-21T08:11:32Z", None]
    assert [d.published_raw for d in docs] == ["قبل ساعتين", "30 نوفمبر 2016", "1437466292", None]
    assert docs[0].notes == ('date did not parse: "قبل ساعتين"',)
    assert docs[3].notes == ()


def test_non_string_metadata_handled(tmp_path):
    d = one_doc(write(tmp_path / "a.jsonl", jsonl([{"text": "a", "title": 12, "outlet": ["x"], "id": {"k": 1}}])))
    assert d.title == "12"
    assert d.outlet is None
    assert d.external_id == "a:1"
    assert any("outlet ignored" in n for n in d.notes) and any("id ignored" in n for n in d.notes)


# --------------------------------------------------------------------------- --map


def test_parse_map():
    assert parse_map(SNN_MAP) == {"text": "content", "outlet": "source", "published": "date_extracted"}
    assert parse_map(" text = body , ") == {"text": "body"}
    for bad, msg in [("", "empty"), ("text", "no '='"), ("body=content", "unknown field"),
                     ("text=", "no source"), ("text=a,text=b", "twice")]:
        with pytest.raises(ValueError, match=msg):
            parse_map(bad)


def test_map_renames_and_nested(tmp_path):
    p = write(tmp_path / "a.jsonl", jsonl([
        {"content": "متن", "source": "okaz", "date_extracted": "2015-07-21 02:51:32", "text": "ignored",
         "meta": {"lang": "ar"}},
    ]))
    d = one_doc(p, field_map={**parse_map(SNN_MAP), "language": "meta.lang"})
    assert (d.text, d.outlet, d.published, d.language) == ("متن", "okaz", "2015-07-21T02:51:32", "ar")
    r = one_reject(write(tmp_path / "b.jsonl", jsonl([{"text": "x"}])), field_map=parse_map(SNN_MAP))
    assert "no 'content' (mapped to text) field" in r.reason
    with pytest.raises(ValueError):
        list(iter_inputs([p], field_map={"body": "content"}))


# --------------------------------------------------------------------------- archives


def make_snn_zip(path: Path, day: str, records) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{day}.json", json.dumps(records, ensure_ascii=False, indent=4))
    return path


def snn_records(n: int, day: str):
    return [{"source": ["okaz", "was", "sabq"][i % 3], "url": f"http://example.sa/{day}/{i}",
             "date_extracted": f"{day} 0{i % 10}:51:32", "title": f"عنوان {i}", "author": "المحرر",
             "content": f"{ARABIC} رقم {i}"} for i in range(n)]


def test_saudinewsnet_like_zip(tmp_path):
    folder = tmp_path / "snn"
    folder.mkdir()
    make_snn_zip(folder / "2015-07-22.zip", "2015-07-22", snn_records(3, "2015-07-22"))
    recs = snn_records(4, "2015-07-21")
    recs[2]["content"] = "   "
    make_snn_zip(folder / "2015-07-21.zip", "2015-07-21", recs)
    write(folder / "README.md", "# about")
    files: list[InputFile] = []
    docs, rejects = run([folder], field_map=parse_map(SNN_MAP), input_files=files)
    assert len(docs) == 6
    assert [d.source_path for d in docs][:3] == [f"{folder}/2015-07-21.zip!2015-07-21.json"] * 3
    assert [d.external_id for d in docs] == ["2015-07-21:1", "2015-07-21:2", "2015-07-21:4",
                                             "2015-07-22:1", "2015-07-22:2", "2015-07-22:3"]
    d = docs[0]
    assert (d.outlet, d.published, d.published_raw, d.url, d.title, d.source_kind) == (
        "okaz", "2015-07-21T00:51:32", "2015-07-21 00:51:32", "http://example.sa/2015-07-21/0", "عنوان 0", "json")
    assert [(r.source_path.rsplit("/", 1)[-1], r.record) for r in rejects] == [
        ("2015-07-21.zip!2015-07-21.json", 3), ("README.md", None)]
    assert "empty" in rejects[0].reason and "unsupported file type" in rejects[1].reason
    assert [Path(f.path).name for f in files] == ["2015-07-21.zip", "2015-07-22.zip"]
    for f in files:
        raw = Path(f.path).read_bytes()
        assert f.size == len(raw) and f.sha256 == hashlib.sha256(raw).hexdigest()


def test_zip_members_sorted_bad_member_rejected_alone(tmp_path):
    p = tmp_path / "mixed.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("b/2.txt", ARABIC_SHORT)
        z.writestr("a.jsonl", jsonl([{"text": "x"}, {"text": "y"}]))
        z.writestr("c.json", '[{"text": "ok"}, {"text": ')
        z.writestr("d.txt", b"\x89PNG\r\n\x1a\n\x00\x00")
        z.writestr("e.csv", "a,b")
        z.writestr("inner.zip", b"PK\x05\x06" + bytes(18))
        z.writestr("__MACOSX/._a.jsonl", b"\x00\x05\x16\x07")
        z.writestr(".DS_Store", b"\x00\x00\x00\x01Bud1")
        z.writestr("f.txt", ARABIC.encode("cp1256"))
        z.writestr("g.jsonl.gz", gzip.compress(jsonl([{"text": "مضغوط"}]).encode()))
        z.writestr("sub/", b"")
    docs, rejects = run([p])
    assert [(d.source_path.split("!")[1], d.text[:5]) for d in docs] == [
        ("a.jsonl", "x"), ("a.jsonl", "y"), ("b/2.txt", ARABIC_SHORT[:5]), ("c.json", "ok"),
        ("f.txt", ARABIC[:5]), ("g.jsonl.gz", "مضغوط")]
    assert docs[4].encoding == "cp1256"
    assert docs[2].external_id == "2" and docs[5].external_id == "g:1"
    reasons = {r.source_path.split("!")[1]: r.reason for r in rejects}
    assert set(reasons) == {"c.json", "d.txt", "e.csv", "inner.zip"}
    assert "truncated" in reasons["c.json"]
    assert "PNG" in reasons["d.txt"]
    assert "unsupported" in reasons["e.csv"]
    assert "nested zip" in reasons["inner.zip"]


def test_zip_corrupt_member_rejected_alone(tmp_path):
    p = tmp_path / "crc.zip"
    good = jsonl([{"text": "سليم"}])
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.jsonl", good)
        z.writestr("b.txt", "PAYLOAD-TO-CORRUPT " * 10)
        z.writestr("c.jsonl", good)
    raw = bytearray(p.read_bytes())
    i = raw.index(b"PAYLOAD-TO-CORRUPT")
    raw[i : i + 7] = b"XXXXXXX"  # CRC no longer matches
    p.write_bytes(bytes(raw))
    docs, rejects = run([p])
    assert [d.source_path.split("!")[1] for d in docs] == ["a.jsonl", "c.jsonl"]
    assert len(rejects) == 1 and rejects[0].source_path.endswith("!b.txt")
    assert "corrupt" in rejects[0].reason and "CRC" in rejects[0].reason


def test_not_a_zip(tmp_path):
    r = one_reject(write(tmp_path / "fake.zip", "not a zip at all"))
    assert "not a valid zip archive" in r.reason


def test_gz_inputs(tmp_path):
    write(tmp_path / "g" / "a.jsonl.gz", gzip.compress(jsonl([{"text": "أ"}, {"text": "ب"}]).encode()))
    write(tmp_path / "g" / "b.json.gz", gzip.compress(json.dumps([{"text": "ج"}]).encode()))
    write(tmp_path / "g" / "c.txt.gz", gzip.compress(ARABIC.encode("cp1256")))
    write(tmp_path / "g" / "d.tar.gz", gzip.compress(b"x"))
    docs, rejects = run([tmp_path / "g"])
    assert [(d.external_id, d.source_kind, d.text[:3]) for d in docs] == [
        ("a:1", "jsonl", "أ"), ("a:2", "jsonl", "ب"), ("b:1", "json", "ج"), ("c", "txt", ARABIC[:3])]
    assert docs[3].encoding == "cp1256"
    assert len(rejects) == 1 and "unsupported file type (.tar.gz)" in rejects[0].reason


def test_truncated_and_corrupt_gz(tmp_path):
    data = gzip.compress(jsonl([{"text": f"سطر {i}" * 50} for i in range(2000)]).encode())
    p = write(tmp_path / "cut.jsonl.gz", data[: len(data) // 2])
    docs, rejects = run([p])
    assert len(docs) > 0
    assert len(rejects) == 1 and "truncated" in rejects[0].reason and "records before were kept" in rejects[0].reason
    r = one_reject(write(tmp_path / "bad.txt.gz", b"\x1f\x8b\x08\x00garbagegarbage"))
    assert "corrupt" in r.reason or "truncated" in r.reason
    r = one_reject(write(tmp_path / "notgz.json.gz", b"plain text"))
    assert "corrupt" in r.reason


def test_gz_txt_oversized_after_decompression(tmp_path):
    p = write(tmp_path / "bomb.txt.gz", gzip.compress(b"a " * 100_000))
    r = one_reject(p, max_bytes=1000)
    assert "too large" in r.reason and "decompressed" in r.reason


# --------------------------------------------------------------------------- walking, unknown files


def test_walk_order_skips_and_unsupported(tmp_path):
    root = tmp_path / "in"
    for name in ["z.txt", "a.txt", "m/b.txt", "m/a.jsonl", "B.txt", ".hidden.txt", ".git/c.txt", ".DS_Store",
                 "Thumbs.db", "manifest.csv", "m/manifest.csv", "other.csv", "notes.md", "noext"]:
        write(root / name, '{"text": "x"}\n' if name.endswith("jsonl") else "نص")
    docs, rejects = run([root])
    assert [d.source_path[len(str(root)) + 1:] for d in docs] == ["B.txt", "a.txt", "m/a.jsonl", "m/b.txt", "z.txt"]
    assert sorted((Path(r.source_path).name, r.reason.split(";")[0]) for r in rejects) == [
        ("noext", "unsupported file type (no extension)"),
        ("notes.md", "unsupported file type (.md)"),
        ("other.csv", "unsupported file type (.csv)"),
    ]
    # a hidden file named explicitly is read
    assert one_doc(root / ".hidden.txt").text == "نص"


def test_paths_in_given_order_and_missing_path(tmp_path):
    a = write(tmp_path / "a.txt", "أ")
    b = write(tmp_path / "b.txt", "ب")
    items = list(iter_inputs([b, tmp_path / "nope", a]))
    assert [(type(i).__name__, Path(i.source_path).name) for i in items] == [
        ("Document", "b.txt"), ("Reject", "nope"), ("Document", "a.txt")]
    assert items[1].reason == "path does not exist"


def test_broken_symlink_and_fifo(tmp_path):
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "gone.txt")
    assert one_reject(link).reason == "broken symbolic link"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.txt"
        os.mkfifo(fifo)
        assert "not a regular file" in one_reject(fifo).reason


def test_file_vanishing_between_walk_and_read(tmp_path):
    root = tmp_path / "in"
    write(root / "a.txt", "أ")
    write(root / "b.txt", "ب")
    write(root / "c.jsonl", jsonl([{"text": "ج"}]))
    it = iter_inputs([root])
    first = next(it)
    assert isinstance(first, Document) and first.external_id == "a"
    (root / "b.txt").unlink()
    (root / "c.jsonl").unlink()
    rest = list(it)
    assert [(type(r).__name__, Path(r.source_path).name) for r in rest] == [("Reject", "b.txt"), ("Reject", "c.jsonl")]
    assert all("vanished" in r.reason for r in rest)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads everything")
def test_permission_denied(tmp_path):
    p = write(tmp_path / "locked.txt", "x")
    p.chmod(0)
    try:
        assert "permission denied" in one_reject(p).reason
    finally:
        p.chmod(0o644)


# --------------------------------------------------------------------------- manifest, outlet


def test_manifest_metadata_by_name_and_relative_path(tmp_path):
    root = tmp_path / "in"
    write(root / "a.txt", "أ")
    write(root / "x" / "b.txt", "ب")
    write(root / "y" / "b.txt", "ب2")
    write(root / "c.txt", "ج")
    write(root / "d.jsonl", jsonl([{"text": "د", "outlet": "own"}, {"text": "هـ"}]))
    man = write(tmp_path / "meta.csv",
                "\ufefffile,outlet,url,published,title\n"
                "a.txt,عربي21,http://a,30 نوفمبر 2016,عنوان أ\n"
                "x/b.txt,الأخبار,,,\n"
                "c.txt,,,not a date,\n"
                "d.jsonl,feed-outlet,,,\n"
                "missing.txt,x,,,\n"
                ",orphan,,,\n"
                "a.txt,dup,,,\n"
                "e.txt,a,b,c,d,extra\n"
                "\n"
                "./z/missing2.txt,x,,,\n")
    docs, rejects = run([root], manifest=man, default_outlet="افتراضي")
    by = {(Path(d.source_path).parent.name, d.external_id): d for d in docs}
    a = by[("in", "a")]
    assert (a.outlet, a.url, a.published, a.published_raw, a.title) == (
        "عربي21", "http://a", "2016-11-30", "30 نوفمبر 2016", "عنوان أ")
    assert by[("x", "b")].outlet == "الأخبار"
    assert by[("y", "b")].outlet == "افتراضي"  # not listed → default outlet
    c = by[("in", "c")]
    assert c.outlet == "افتراضي" and c.published is None and c.notes == ('date did not parse: "not a date"',)
    assert [d.outlet for d in docs if d.source_kind == "jsonl"] == ["own", "feed-outlet"]
    assert all(r.source_path == str(man) for r in rejects)
    got = [(r.record, r.reason) for r in rejects]
    assert got[:3] == [
        (7, "manifest row has an empty 'file' cell"),
        (8, "manifest lists a.txt again (first on line 2); this row is ignored"),
        (9, "manifest row has 6 cells but the header has 5"),
    ]
    assert got[3:] == [
        (6, "manifest names a file that was not in the inputs: missing.txt"),
        (11, "manifest names a file that was not in the inputs: z/missing2.txt"),
    ]
    assert isinstance(list(iter_inputs([root], manifest=man))[-1], Reject)  # missing ones come last


def test_manifest_for_seeds_like_folder_skips_manifest_csv(tmp_path):
    root = tmp_path / "seeds"
    write(root / "000_a.txt", "نص")
    write(root / "001_b.txt", "نص آخر")
    man = write(root / "manifest.csv", "file,outlet,url,published,title\n000_a.txt,بوابة,,,\n001_b.txt,,,,\n")
    docs, rejects = run([root], manifest=man)
    assert rejects == []
    assert [(d.external_id, d.outlet) for d in docs] == [("000_a", "بوابة"), ("001_b", None)]


def test_manifest_errors(tmp_path):
    with pytest.raises(ValueError, match="no 'file' column"):
        read_manifest(write(tmp_path / "m1.csv", "name,outlet\na.txt,x\n"))
    with pytest.raises(ValueError, match="cannot read manifest"):
        read_manifest(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="empty"):
        read_manifest(write(tmp_path / "m2.csv", ""))
    with pytest.raises(ValueError, match="no 'file' column"):
        list(iter_inputs([tmp_path], manifest=tmp_path / "m1.csv"))
    entries, rejects = read_manifest(write(tmp_path / "m3.csv", "FILE , Outlet\n a.txt , عكاظ \n"))
    assert rejects == [] and entries["a.txt"]["outlet"] == "عكاظ" and entries["a.txt"]["row"] == 2
    # a manifest saved as Windows-1256
    entries, _ = read_manifest(write(tmp_path / "m4.csv", "file,outlet\r\na.txt,عكاظ\r\n".encode("cp1256")))
    assert entries["a.txt"]["outlet"] == "عكاظ"


def test_default_outlet(tmp_path):
    p = write(tmp_path / "a.jsonl", jsonl([{"text": "a"}, {"text": "b", "outlet": "سبق"}, {"text": "c", "outlet": " "}]))
    docs, _ = run([p], default_outlet="واس")
    assert [d.outlet for d in docs] == ["واس", "سبق", "واس"]
    docs, _ = run([p])
    assert [d.outlet for d in docs] == [None, "سبق", None]


# --------------------------------------------------------------------------- determinism & provenance


def test_deterministic_ids_and_order_across_locations(tmp_path):
    src = tmp_path / "one"
    write(src / "k.txt", ARABIC)
    write(src / "f.jsonl", jsonl([{"text": "a"}, {"id": 9, "text": "b"}]))
    with zipfile.ZipFile(src / "z.zip", "w") as z:
        z.writestr("q.json", json.dumps([{"text": "c"}]))
    shutil.copytree(src, tmp_path / "two")
    r1 = [(d.doc_id, d.external_id) for d in run([src])[0]]
    r2 = [(d.doc_id, d.external_id) for d in run([src])[0]]
    r3 = [(d.doc_id, d.external_id) for d in run([tmp_path / "two"])[0]]
    assert r1 == r2 == r3
    assert [e for _, e in r1] == ["f:1", "9", "k", "q:1"]
    assert len({i for i, _ in r1}) == 4 and all(len(i) == 24 for i, _ in r1)
    # a changed text is a new version with its own id
    write(src / "k.txt", ARABIC + "تحديث")
    assert [d.doc_id for d in run([src / "k.txt"])[0]] != [r1[2][0]]
    # the same text in another encoding is the same document
    write(tmp_path / "three" / "k.txt", ARABIC.encode("cp1256"))
    assert run([tmp_path / "three"])[0][0].doc_id == r1[2][0]


def test_input_files_provenance(tmp_path):
    root = tmp_path / "in"
    a = write(root / "a.txt", "أ")
    j = write(root / "b.jsonl", jsonl([{"text": "x"}]))
    write(root / "c.md", "no")
    z = root / "d.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("1.txt", "x")
        zf.writestr("2.txt", "y")
    files: list[InputFile] = []
    run([root], input_files=files)
    assert [Path(f.path) for f in files] == [a, j, z]
    for f in files:
        raw = Path(f.path).read_bytes()
        assert (f.size, f.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())


# --------------------------------------------------------------------------- the real corpus


@pytest.mark.slow
def test_saudinewsnet_real_corpus(shared):
    folder = shared("bench/saudinewsnet")
    t = time.perf_counter()
    files: list[InputFile] = []
    n_docs, reasons, ids = 0, {}, set()
    for item in iter_inputs([folder], field_map=parse_map(SNN_MAP), input_files=files):
        if isinstance(item, Document):
            n_docs += 1
            ids.add(item.doc_id)
            assert item.outlet and item.published and item.encoding == "utf-8"
        else:
            key = "empty" if "is empty" in item.reason else item.reason.split(";")[0]
            reasons[key] = reasons.get(key, 0) + 1
    assert n_docs > 30_000 and len(ids) == n_docs
    assert n_docs + reasons.get("empty", 0) == 31_030
    assert set(reasons) <= {"empty", "unsupported file type (.md)"}
    assert len(files) == 18
    assert time.perf_counter() - t < 30


# --------------------------------------------------------------------------- never crashes

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PREFIXES = [b"", b"[", b'[{"text": "', b'{"text": "', b"\xef\xbb\xbf", b"\xff\xfe", b'{"data": [', b"\x1f\x8b"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=600),
       name=st.sampled_from(["f.txt", "f.json", "f.jsonl", "f.txt.gz", "f.jsonl.gz", "f.zip"]))
def test_arbitrary_bytes_never_crash(tmp_path, prefix, body, name):
    p = tmp_path / name
    p.write_bytes(prefix + body)
    for item in iter_inputs([p], max_bytes=10_000):
        assert isinstance(item, (Document, Reject))
        if isinstance(item, Document):
            item.text.encode("utf-8")  # storable: no lone surrogates
            assert "\x00" not in item.text and item.text.strip()
            for v in (item.title, item.outlet, item.url, item.published_raw, item.external_id):
                if v is not None:
                    v.encode("utf-8")
        else:
            assert item.reason and item.source_path == str(p)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=300).filter(lambda t: t.strip() and "\x00" not in t))
def test_any_utf8_text_roundtrips(tmp_path, text):
    if len([c for c in text if (c < " " and c not in "\t\n\r\x0b\x0c") or "\x7f" <= c <= "\x9f"]) > 8:
        return  # control-heavy strings are (rightly) binary
    if not text.lstrip("\ufeff").strip():
        return
    p = tmp_path / "t.txt"
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    items = list(iter_inputs([p]))
    assert len(items) == 1
    if any("\ud800" <= c <= "\udfff" for c in text):
        return
    assert isinstance(items[0], Document), items[0]
    assert items[0].text == (text[1:] if text.startswith("\ufeff") else text)


def test_single_json_object_over_record_limit(tmp_path):
    p = write(tmp_path / "huge.json", json.dumps({"text": "x" * 2_000_000}))
    r = one_reject(p, max_bytes=100)
    assert "longer than" in r.reason and r.record == 1


def test_undecodable_file_name_is_storable(tmp_path):
    if sys.platform != "linux":
        pytest.skip("needs a file system that takes arbitrary bytes in names")
    raw_dir = os.fsencode(tmp_path)
    with open(os.path.join(raw_dir, b"caf\xe9.txt"), "wb") as f:
        f.write("نص".encode())
    with open(os.path.join(raw_dir, b"x\xff.md"), "wb") as f:
        f.write(b"x")
    docs, rejects = run([tmp_path])
    assert [d.external_id for d in docs] == ["caf\ufffd"]
    assert docs[0].source_path.endswith("caf\ufffd.txt") and docs[0].text == "نص"
    assert rejects[0].source_path.endswith("x\ufffd.md")
    for s in (docs[0].source_path, docs[0].external_id, rejects[0].source_path):
        s.encode("utf-8")
