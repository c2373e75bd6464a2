"""Input files are skipped only when read before with the same options and with documents stored; rejects are
summarized by reason (issue #15, points 3 and 7), through the console script."""

from __future__ import annotations

import json

import pytest

from conftest import cli

pytestmark = pytest.mark.slow


def _summary(proc) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_mistyped_map_does_not_block_the_corrected_run(prefect_api, db_name, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    rows = [{"content": f"نص الخبر رقم {i} عن افتتاح مشروع جديد في المدينة", "source": "okaz"} for i in range(20)]
    (inbox / "day.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    base = ["run", str(inbox), "--db", db_name]

    typo = cli(*base, "--map", "text=contnt,outlet=source", check=False)
    assert typo.returncode == 1
    err = typo.stderr.strip().splitlines()
    assert len(err) == 1 and "20 ×" in err[0] and "contnt" in err[0], typo.stderr
    assert "rejected inputs by reason" in typo.stdout and "day.jsonl)" in typo.stdout and "more" not in typo.stdout

    fixed = _summary(cli(*base, "--map", "text=content,outlet=source", "--json"))
    assert fixed["counts"]["documents"] == 20 and fixed["counts"]["input_files_read"] == 1

    again = _summary(cli(*base, "--map", "text=content,outlet=source", "--json"))
    assert again["counts"]["input_files_skipped"] == 1 and again["counts"]["documents_read"] == 0

    text = cli(*base, "--map", "text=content,outlet=source").stdout
    assert "1 input file(s) skipped" in text and "--reprocess" in text

    other = _summary(cli(*base, "--map", "text=content", "--outlet", "okaz", "--json"))  # other options: read
    assert other["counts"]["input_files_read"] == 1 and other["counts"]["documents_known"] == 20

    forced = _summary(cli(*base, "--map", "text=content,outlet=source", "--reprocess", "--json"))
    assert forced["counts"]["input_files_read"] == 1 and forced["counts"]["documents_read"] == 20
    assert forced["counts"]["documents"] == 0 and forced["counts"]["documents_known"] == 20  # nothing twice


def test_rejects_by_reason_in_the_summary(prefect_api, db_name, tmp_path):
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    for i in range(4):
        (pdfs / f"report{i}.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    missing = tmp_path / "no-such-folder"
    proc = cli("run", str(pdfs), str(missing), "--db", db_name, check=False)
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "4 × unsupported file type (.pdf)" in err[0] and "path does not exist" in err[0], err
    assert "report0.pdf" in proc.stdout and "… 1 more files" in proc.stdout
    summary = _summary(cli("run", str(pdfs), str(missing), "--db", db_name, "--json", check=False))
    by = {r["reason"].split(";")[0]: r for r in summary["rejects_by_reason"]}
    assert by["unsupported file type (.pdf)"]["count"] == 4 and len(by["unsupported file type (.pdf)"]["files"]) == 3
    assert by["path does not exist"]["files"] == [str(missing)]
