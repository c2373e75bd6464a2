"""Duplicates end to end (issue #20): the seeds, then the same articles again from another export.

The real flow on the real embedded server; the checks read what a user reads: the run summary,
the exports, ``runs`` and ``query doc``.
"""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import SEEDS, cli, read_jsonl

MANIFEST = {row.split(",")[0]: (row.split(",")[1] or None)
            for row in (SEEDS / "manifest.csv").read_text(encoding="utf-8").splitlines()[1:] if row.strip()}
KINDS = ("documents", "passages", "matches", "clusters")


def _exports(db: str) -> dict[str, list[dict]]:
    return {k: read_jsonl(cli("export", k, "--db", db).stdout) for k in KINDS}


def _second_export(folder: Path) -> tuple[Path, dict[str, str]]:
    """The five seeds as JSONL records under other ids and URLs; one gets a trailing link line, one
    another date line, one no outlet. Returns the file and new id → seed file stem."""
    records, ids = [], {}
    for i, name in enumerate(sorted(MANIFEST)):
        text = (SEEDS / name).read_text(encoding="utf-8")
        stem = Path(name).stem
        if stem.startswith("001"):
            text = text.rstrip("\n") + "\nرابط الخبر: https://arabi21.example/story/1197 ?utm_source=feed\n"
        if stem.startswith("000"):
            assert "الأربعاء 30/نوفمبر/2016 - 03:16 م" in text
            text = text.replace("الأربعاء 30/نوفمبر/2016 - 03:16 م", "الخميس 01/ديسمبر/2016 - 10:05 ص")
        rec = {"id": f"api-{9000 + i}", "text": text, "url": f"https://mirror.example/a/{9000 + i}"}
        if MANIFEST[name] and not stem.startswith("003"):
            rec["outlet"] = MANIFEST[name]
        records.append(rec)
        ids[rec["id"]] = stem
    path = folder / "api-dump.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reversed(records)), encoding="utf-8")
    return path, ids


@pytest.fixture(scope="module")
def twice(prefect_api, newsdedup_home, tmp_path_factory):
    """Seeds, then the second export of the same five articles, in one database."""
    from newsdedup.flows.ingest import ingest

    db = f"dedup_{uuid.uuid4().hex[:8]}"
    first = ingest(db=db)
    before = _exports(db)
    folder = tmp_path_factory.mktemp("second-export")
    path, ids = _second_export(folder)
    second = ingest(paths=[str(path)], db=db)
    return {"db": db, "first": first, "second": second, "before": before, "after": _exports(db), "ids": ids,
            "folder": folder}


def test_the_same_articles_again_are_five_duplicates(twice):
    c = twice["second"]["counts"]
    assert c["duplicates"] == 5 and c["documents"] == 0
    assert c["matches"] == 0 and c["clusters"] == 0 and c["passages"] == 0
    assert twice["second"]["totals"]["duplicates"] == 5
    assert twice["second"]["totals"]["documents"] == twice["first"]["totals"]["documents"] == 5


def test_clusters_and_matches_are_unchanged(twice):
    for kind in ("matches", "clusters", "passages"):
        assert twice["after"][kind] == twice["before"][kind], kind


def test_duplicates_keep_their_own_provenance(twice):
    docs = {d["doc_id"]: d for d in twice["after"]["documents"]}
    seeds = {d["external_id"]: d for d in twice["before"]["documents"]}
    dups = [d for d in docs.values() if d["duplicate_of"]]
    assert sorted(d["external_id"] for d in dups) == sorted(twice["ids"])
    for d in dups:
        orig = seeds[twice["ids"][d["external_id"]]]
        assert d["duplicate_of"] == orig["doc_id"]  # the stored document keeps its id
        assert d["source_path"].endswith("api-dump.jsonl") and d["url"].startswith("https://mirror.example/")
        assert d["run_id"] == twice["second"]["run_id"] != orig["run_id"]
        assert d["lang"] == orig["lang"]
    for d in seeds.values():
        assert docs[d["doc_id"]]["duplicate_of"] is None
    passage_docs = {p["doc_id"] for p in twice["after"]["passages"]}
    member_docs = {m["doc_id"] for c in twice["after"]["clusters"] for m in c["members"]}
    for d in dups:
        assert d["doc_id"] not in passage_docs and d["doc_id"] not in member_docs


def test_how_each_copy_was_recognised(twice):
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    store = Store.open(load_settings(twice["db"]))
    try:
        got = {d["external_id"]: d["duplicate_kind"]
               for d in store.db.documents.find({"duplicate_of": {"$ne": None}}, {"external_id": 1, "duplicate_kind": 1})}
        run = store.db.runs.find_one({"run_id": twice["second"]["run_id"]})
    finally:
        store.close()
    by_seed = {twice["ids"][k]: v for k, v in got.items()}
    assert by_seed["001_e39b3440e0db7349"] == "near"  # the trailing link line
    assert by_seed["000_0fc2040b98299895"] == "same-body"  # the date line is boilerplate
    assert by_seed["002_bf4a54bd74fa47e2"] == "identical"
    assert by_seed["003_047ee30f9d8e7537"] == "identical"  # no outlet in the export: anyone's
    assert run["counts"]["duplicates"] == 5


def test_query_doc_on_a_duplicate_shows_its_original(twice):
    dup_id = next(k for k, v in twice["ids"].items() if v.startswith("002"))
    out = cli("query", "doc", dup_id, "--db", twice["db"], "--json").stdout
    rows = read_jsonl(out)
    assert len(rows) == 1
    row = rows[0]
    assert row["document"]["duplicate_of"] == row["original"]["document"]["doc_id"]
    assert row["original"]["document"]["external_id"] == "002_bf4a54bd74fa47e2"
    assert row["original"]["passages"] and row["passages"] == []
    text = cli("query", "doc", dup_id, "--db", twice["db"]).stdout
    assert "duplicate of 002_bf4a54bd74fa47e2" in text


def test_another_path_to_the_same_files_adds_nothing(twice, prefect_api, tmp_path):
    """Renamed files (the same bytes, read again: the seeds came with their manifest, these without, and
    their names are their external ids: duplicates), a zip of them (the same documents), and the same
    texts saved again as UTF-16 with CRLF line ends (other bytes, the same text: duplicates): no new
    document, cluster or match."""
    from newsdedup.flows.ingest import ingest

    renamed, resaved = tmp_path / "renamed", tmp_path / "resaved"
    renamed.mkdir()
    resaved.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        shutil.copy(p, renamed / f"copy-of-{p.name}")
        text = p.read_text(encoding="utf-8").replace("\n", "\r\n")
        (resaved / f"{p.stem}-windows.txt").write_bytes(text.encode("utf-16"))
    with zipfile.ZipFile(tmp_path / "seeds.zip", "w") as zf:
        for p in sorted(SEEDS.glob("*.txt")):
            zf.write(p, f"inbox/{p.name}")
    before = twice["after"]
    s = ingest(paths=[str(renamed), str(tmp_path / "seeds.zip"), str(resaved)], db=twice["db"])
    c = s["counts"]
    assert c["matches"] == 0 and c["clusters"] == 0 and c["documents"] == 0 and c["passages"] == 0
    assert c["input_files_read"] == 11 and c["documents_known"] == 5 and c["duplicates"] == 10
    after = _exports(twice["db"])
    for kind in ("matches", "clusters", "passages"):
        assert after[kind] == before[kind], kind
    resaved_docs = [d for d in after["documents"] if d["external_id"].endswith("-windows")]
    assert len(resaved_docs) == 5 and all(d["duplicate_of"] and d["encoding"].startswith("utf-16")
                                          for d in resaved_docs)
    renamed_docs = [d for d in after["documents"] if d["external_id"].startswith("copy-of-")]
    assert len(renamed_docs) == 5 and all(d["duplicate_of"] and d["duplicate_kind"] == "identical"
                                          for d in renamed_docs)
    # and once more, with --reprocess: every file is read again, every document is known already
    again = ingest(paths=[str(renamed), str(tmp_path / "seeds.zip"), str(resaved)], db=twice["db"], reprocess=True)
    c = again["counts"]
    assert c["documents_read"] == 15 and c["documents_known"] == 15 and c["duplicates"] == 0
    assert c["documents"] == c["matches"] == c["clusters"] == c["passages"] == 0


def test_search_index_and_recovery_see_only_kept_documents(twice):
    """Derived state counts the kept documents as ``totals.documents`` does: the search index the run
    brought up to date covers them and is trusted as it is (no rebuild per query), and a run
    interrupted after it stored only duplicates leaves nothing for the next run to redo."""
    from newsdedup.config import load_settings
    from newsdedup.db import Store
    from newsdedup.flows.ingest import ingest

    db = twice["db"]
    store = Store.open(load_settings(db))
    try:
        kept = store.counts()["documents"]
        meta = store.get_meta("search_index")
        assert meta is not None and meta["documents"] == kept == 5
        assert store.doc_seqs_of_runs([twice["second"]["run_id"]]) == []
        seed = next(d for d in twice["before"]["documents"] if d["external_id"].startswith("002"))
        claim = max(seed["text"].splitlines(), key=len)[:120]
        rows = read_jsonl(cli("query", "search", claim, "--json", "--db", db).stdout)
        assert rows and store.get_meta("search_index")["token"] == meta["token"]  # trusted, not rebuilt
        dup_ids = {d["doc_id"] for d in store.db.documents.find({"duplicate_of": {"$ne": None}}, {"doc_id": 1})}
        assert dup_ids and not dup_ids & {r["matched_passage"]["doc_id"] for r in rows}
        store.update_run(twice["second"]["run_id"], {"status": "interrupted", "recovered_by": None,
                                                     "progress": {"aligned_seq": None, "clusters_done": False}})
    finally:
        store.close()
    before = _exports(db)
    again = ingest(paths=[str(twice["folder"] / "api-dump.jsonl")], db=db)
    c = again["counts"]
    assert c["recovered_runs"] == 1 and c["recovered_documents"] == 0
    assert c["matches"] == c["clusters"] == c["passages"] == c["documents"] == 0
    after = _exports(db)
    for kind in KINDS:
        assert after[kind] == before[kind], kind


def test_copies_inside_one_run_and_across_outlets(prefect_api, newsdedup_home, tmp_path):
    """Two copies in one run: the first read is kept. The same text from another outlet is not a
    duplicate but reuse: a wholly derived article with its matches."""
    from newsdedup.flows.ingest import ingest

    text = (SEEDS / "002_bf4a54bd74fa47e2.txt").read_text(encoding="utf-8")
    rows = [{"id": "a-first", "text": text, "outlet": "العربي الجديد"},
            {"id": "b-again", "text": text + "\nشارك", "outlet": "العربي الجديد"},
            {"id": "c-other", "text": text, "outlet": "وكالة أخرى"}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    db = f"dedup_{uuid.uuid4().hex[:8]}"
    s = ingest(paths=[str(path)], db=db)
    assert s["counts"]["documents"] == 2 and s["counts"]["duplicates"] == 1
    docs = {d["external_id"]: d for d in read_jsonl(cli("export", "documents", "--db", db).stdout)}
    assert docs["b-again"]["duplicate_of"] == docs["a-first"]["doc_id"]
    assert docs["a-first"]["duplicate_of"] is None and docs["c-other"]["duplicate_of"] is None
    matches = read_jsonl(cli("export", "matches", "--db", db).stdout)
    pair = {docs["a-first"]["doc_id"], docs["c-other"]["doc_id"]}
    assert any({m["a_doc_id"], m["b_doc_id"]} == pair for m in matches)
    assert not any(docs["b-again"]["doc_id"] in (m["a_doc_id"], m["b_doc_id"]) for m in matches)
    # the same input again: nothing new, the same kept copy
    s2 = ingest(paths=[str(path)], db=db)
    assert s2["counts"]["documents"] == 0 and s2["counts"]["duplicates"] == 0
