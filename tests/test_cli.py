"""The console script as users and outside checks drive it (subprocesses, real server, real Prefect API)."""

from __future__ import annotations

import json

import pymongo

from conftest import cli, read_jsonl


def test_db_uri_opens_the_database_with_a_real_client(seeds_run):
    uri = cli("db", "uri", "--db", seeds_run["db"]).stdout.strip()
    assert uri.startswith("mongodb://127.0.0.1:")
    assert uri.rstrip("/").endswith("/" + seeds_run["db"])
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        db = client.get_default_database()
        assert db.name == seeds_run["db"]
        assert db.documents.count_documents({}) == 5
        assert set(db.list_collection_names()) >= {"documents", "passages", "matches", "clusters", "runs", "rejects"}
    finally:
        client.close()


def test_query_clusters_shows_the_debka_claim_with_both_outlets(seeds_run):
    rows = read_jsonl(cli("query", "clusters", "--min-outlets", "2", "--json", "--db", seeds_run["db"]).stdout)
    assert rows, "no multi-outlet cluster"
    debka = [c for c in rows if "ديبكا" in json.dumps(c, ensure_ascii=False)]
    assert debka
    c = debka[0]
    assert {"بوابة الحركات الإسلامية", "العربي الجديد"} <= set(c["outlets"])
    assert c["attribution"] and "ديبكا" in c["attribution"]
    assert c["first_seen"]["outlet"] in {"بوابة الحركات الإسلامية", "العربي الجديد"}
    text = cli("query", "clusters", "--min-outlets", "2", "--db", seeds_run["db"]).stdout
    assert "first seen" in text


def test_query_search_finds_the_claim(seeds_run):
    rows = read_jsonl(cli("query", "search", "على مسافة 700 كم من أوروبا", "--json", "--db", seeds_run["db"]).stdout)
    assert rows
    top = rows[0]
    assert top["kind"] == "cluster"
    assert {"بوابة الحركات الإسلامية", "العربي الجديد"} <= set(top["outlets"])
    assert top["first_seen"]["published"] == "2016-11-30"


def test_query_search_input_is_literal(seeds_run):
    for q in ('{"$where": "1"}', '{"$gt": ""}', ".*", "'; db.dropDatabase(); '"):
        proc = cli("query", "search", q, "--json", "--db", seeds_run["db"])
        assert read_jsonl(proc.stdout) == []
    uri = cli("db", "uri", "--db", seeds_run["db"]).stdout.strip()
    client = pymongo.MongoClient(uri)
    try:
        assert client.get_default_database().documents.count_documents({}) == 5
    finally:
        client.close()


def test_query_doc_shows_passages_flags_and_clusters(seeds_run):
    rows = read_jsonl(cli("query", "doc", "000_0fc2040b98299895", "--json", "--db", seeds_run["db"]).stdout)
    assert len(rows) == 1
    r = rows[0]
    assert r["document"]["external_id"] == "000_0fc2040b98299895"
    assert any(p["boilerplate"] for p in r["passages"])
    assert r["clusters"]
    missing = cli("query", "doc", "no-such-doc", "--db", seeds_run["db"], check=False)
    assert missing.returncode != 0
    assert len(missing.stderr.strip().splitlines()) == 1


def test_export_to_file_and_bad_kind(seeds_run, tmp_path):
    out = tmp_path / "d.jsonl"
    cli("export", "documents", "-o", str(out), "--db", seeds_run["db"])
    assert len(read_jsonl(out.read_text(encoding="utf-8"))) == 5
    bad = cli("export", "nothing", "--db", seeds_run["db"], check=False)
    assert bad.returncode != 0


def test_run_cli_on_files_with_bad_input(prefect_api, db_name, tmp_path):
    good = tmp_path / "in" / "good.txt"
    good.parent.mkdir()
    good.write_text("هذا نص عربي قصير عن حفتر وروسيا.\nسطر ثان من النص.", encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "in" / "records.jsonl").write_text(
        '{"id": "r1", "text": "نص السجل الأول", "outlet": "x"}\n{broken\n{"id": "r3"}\n', encoding="utf-8")
    proc = cli("run", str(tmp_path / "in"), "--db", db_name, "--json")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["counts"]["documents"] == 2
    assert summary["counts"]["rejects"] >= 4
    rejects = read_jsonl(cli("export", "rejects", "--db", db_name).stdout)
    paths = {r["source_path"].rsplit("/", 1)[-1] for r in rejects}
    assert {"empty.txt", "image.txt", "records.jsonl"} <= paths
    assert all(r["reason"] for r in rejects)
    assert any(r["record"] == 2 for r in rejects if r["source_path"].endswith("records.jsonl"))


def test_run_exits_nonzero_when_nothing_could_be_read(prefect_api, db_name, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    proc = cli("run", str(tmp_path / "empty.txt"), "--db", db_name, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip()


def test_a_cluster_over_the_document_size_limit_is_stored(mongo_uri, db_name):
    """A giant component (tens of thousands of members) must not make the run fail on MongoDB's 16 MB limit."""
    from newsdedup.config import load_settings
    from newsdedup.db import MAX_CLUSTER_BYTES, Store

    store = Store.open(load_settings(db_name))
    try:
        text = "ن" * 400
        members = [{"doc_id": f"d{i:06d}", "external_id": f"e{i}", "outlet": f"o{i % 7}", "start": 0, "end": 400,
                    "text": text, "score": 90.0} for i in range(30000)]
        cluster = {"cluster_id": "d000000:00000000", "size": len(members), "outlets": [f"o{i}" for i in range(7)],
                   "n_outlets": 7, "first_seen": {"doc_id": "d000000", "outlet": "o0", "published": None},
                   "representative": text, "attribution": None, "members": members}
        shas, gone = store.write_clusters([cluster], set(), {})
        assert set(shas) == {"d000000:00000000"} and gone == []
        stored = store.db.clusters.find_one({"_id": "d000000:00000000"})
        assert stored["size"] == 30000 and stored["members_text_omitted"] is True
        assert stored["members"][0]["doc_id"] == "d000000"
        import bson

        assert len(bson.encode(stored)) <= MAX_CLUSTER_BYTES
    finally:
        store.close()


def test_matches_and_clusters_carry_kind_evidence_and_confidence(seeds_run):
    matches = read_jsonl(cli("export", "matches", "--db", seeds_run["db"]).stdout)
    assert matches and all(m["kind"] in ("reuse", "template") and m["evidence"] > 0 for m in matches)
    clusters = read_jsonl(cli("export", "clusters", "--db", seeds_run["db"]).stdout)
    assert clusters and all(c["kind"] in ("claim", "self", "template", "formula") and 0 <= c["confidence"] <= 1
                            for c in clusters)
    debka = [c for c in clusters if c["attribution"] == "ديبكا"]
    assert [c["kind"] for c in debka] == ["claim"]
    assert all(set(m) >= {"doc_id", "outlet", "published", "start", "end", "text", "score"} for m in debka[0]["members"])


def test_query_kind_chooses_the_clusters_shown(seeds_run):
    claims = read_jsonl(cli("query", "clusters", "--json", "--db", seeds_run["db"]).stdout)
    assert claims and all(c["kind"] == "claim" for c in claims)
    assert read_jsonl(cli("query", "clusters", "--kind", "template", "--json", "--db", seeds_run["db"]).stdout) == []
    every = read_jsonl(cli("query", "clusters", "--kind", "any", "--json", "--db", seeds_run["db"]).stdout)
    assert {c["cluster_id"] for c in claims} <= {c["cluster_id"] for c in every}
    assert "claim" in cli("query", "clusters", "--db", seeds_run["db"]).stdout
    hits = read_jsonl(cli("query", "search", "على مسافة 700 كم من أوروبا", "--kind", "template", "--json",
                          "--db", seeds_run["db"]).stdout)
    assert all(h["kind"] == "passage" for h in hits)  # the claim's passages are not listed as templates
    proc = cli("query", "clusters", "--kind", "nonsense", "--db", seeds_run["db"], check=False)
    assert proc.returncode != 0
