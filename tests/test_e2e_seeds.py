"""End to end over the bundled seeds: the real flow, the real embedded server, the contract's exports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import SEEDS, cli, read_jsonl

CONTRACT_FIELDS = {
    "documents": {"doc_id", "external_id", "source_path", "outlet", "title", "url", "published", "lang",
                  "lang_confidence", "text", "clean_text", "content_sha256", "run_id", "duplicate_of"},
    "passages": {"passage_id", "doc_id", "external_id", "outlet", "start", "end", "text", "lang", "boilerplate",
                 "boilerplate_reason", "cluster_id"},
    "matches": {"a_doc_id", "a_external_id", "a_start", "a_end", "b_doc_id", "b_external_id", "b_start", "b_end",
                "score", "method"},
    "clusters": {"cluster_id", "size", "outlets", "n_outlets", "first_seen", "representative", "attribution",
                 "members"},
    "derivations": {"a_doc_id", "a_external_id", "b_doc_id", "b_external_id", "a_coverage", "b_coverage",
                    "source_doc_id", "derivation"},
    "rejects": {"source_path", "record", "reason", "run_id"},
}


def load(seeds_run, kind):
    return read_jsonl((seeds_run["out"] / f"{kind}.jsonl").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", sorted(CONTRACT_FIELDS))
def test_exports_have_every_contract_field(seeds_run, kind):
    rows = load(seeds_run, kind)
    if kind != "rejects":
        assert rows, f"no {kind} exported"
    for r in rows:
        missing = CONTRACT_FIELDS[kind] - set(r)
        assert not missing, f"{kind} row lacks {missing}"


def test_documents_are_the_seeds_with_outlets_and_hashes(seeds_run):
    import hashlib

    docs = {d["external_id"]: d for d in load(seeds_run, "documents")}
    assert sorted(docs) == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert docs["001_e39b3440e0db7349"]["outlet"] == "عربي21"
    assert docs["004_2c09273f5c3701ce"]["outlet"] is None
    for d in docs.values():
        assert d["content_sha256"] == hashlib.sha256(d["text"].encode("utf-8")).hexdigest()
        assert d["lang"] == "ar"
        assert d["run_id"] == seeds_run["summary"]["run_id"]
        assert len(d["clean_text"]) < len(d["text"]) or d["external_id"].startswith("004")


def test_passage_offsets_slice_the_received_text(seeds_run):
    docs = {d["doc_id"]: d["text"] for d in load(seeds_run, "documents")}
    passages = load(seeds_run, "passages")
    assert len(passages) > 100
    for p in passages:
        assert docs[p["doc_id"]][p["start"]:p["end"]] == p["text"]
        assert p["passage_id"] == f"{p['doc_id']}:{p['start']:08d}"


def test_matches_and_clusters_slice_the_received_text(seeds_run):
    docs = {d["doc_id"]: d["text"] for d in load(seeds_run, "documents")}
    for m in load(seeds_run, "matches"):
        assert m["a_doc_id"] < m["b_doc_id"]
        assert 0 <= m["score"] <= 100
        assert docs[m["a_doc_id"]][m["a_start"]:m["a_end"]].strip()
        assert docs[m["b_doc_id"]][m["b_start"]:m["b_end"]].strip()
    for c in load(seeds_run, "clusters"):
        assert c["size"] == len(c["members"])
        assert c["n_outlets"] == len(c["outlets"])
        for mem in c["members"]:
            assert docs[mem["doc_id"]][mem["start"]:mem["end"]] == mem["text"]


def test_exports_are_sorted_and_deterministic(seeds_run):
    first = {k: (seeds_run["out"] / f"{k}.jsonl").read_bytes() for k in CONTRACT_FIELDS}
    for kind in CONTRACT_FIELDS:
        again = cli("export", kind, "--db", seeds_run["db"]).stdout.encode("utf-8")
        assert again == first[kind]


def test_seed_gold_evaluation_passes(seeds_run, shared):
    script = shared("bench/eval_seeds.py")
    gold = shared("gold/seeds.json")
    proc = subprocess.run([sys.executable, str(script), str(gold), str(seeds_run["out"])], capture_output=True,
                          text=True)
    result = json.loads(proc.stdout)
    assert result["pass"], result


def test_second_run_adds_nothing(seeds_run, prefect_api):
    from newsdedup.config import load_settings
    from newsdedup.db import Store
    from newsdedup.flows.ingest import ingest

    store = Store.open(load_settings(seeds_run["db"]))
    try:
        before = store.counts()
        summary = ingest(db=seeds_run["db"])
        assert store.counts() == before
        assert summary["counts"]["documents"] == 0
        assert summary["counts"]["matches"] == 0
        runs = list(store.db.runs.find({}, sort=[("started_at", 1)]))
        assert len(runs) >= 2
        assert runs[-1]["status"] == "completed"
    finally:
        store.close()


def test_run_records_provenance(seeds_run):
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    store = Store.open(load_settings(seeds_run["db"]))
    try:
        run = store.db.runs.find_one({"run_id": seeds_run["summary"]["run_id"]})
    finally:
        store.close()
    assert run["status"] == "completed"
    assert run["flow_run_id"]
    assert run["started_at"] <= run["ended_at"]
    assert {"prefect", "pymongo", "rapidfuzz", "langdetect", "python"} <= set(run["versions"])
    assert len(run["inputs"]) == 6  # five seeds and the manifest
    for i in run["inputs"]:
        assert len(i["sha256"]) == 64
    assert run["counts"]["documents"] == 5
    assert run["parameters"]["db"] == seeds_run["db"]
    assert "***" in run["database"]["uri"] or "@" not in run["database"]["uri"]
