"""Derivations end to end: the real CLI over Urdu agency copy and the newspaper articles written from it
(a slice of counter-dev), into the real embedded server; export, query doc, re-run."""

from __future__ import annotations

import json

import pytest

from conftest import cli, read_jsonl

PAIRS = ("0003", "0061", "0069", "0005", "0007", "0013", "0015", "0021")
CONTRACT = ["a_doc_id", "a_external_id", "b_doc_id", "b_external_id", "a_coverage", "b_coverage",
            "source_doc_id", "derivation"]


@pytest.fixture(scope="module")
def counter_slice(shared, tmp_path_factory):
    src = shared("bench/counter-dev/documents.jsonl")
    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("counter") / "slice.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows if r["id"][8:12] in PAIRS),
                    encoding="utf-8")
    return path


def test_derivations_are_exported_queried_and_stable_across_reruns(prefect_api, db_name, counter_slice):
    cli("run", str(counter_slice), "--db", db_name)
    first = cli("export", "derivations", "--db", db_name).stdout
    rows = read_jsonl(first)
    docs = {d["external_id"]: d for d in read_jsonl(cli("export", "documents", "--db", db_name).stdout)}
    matches = read_jsonl(cli("export", "matches", "--db", db_name).stdout)
    # one row per pair of documents sharing a match, a < b, contract fields first and in order
    assert {(r["a_doc_id"], r["b_doc_id"]) for r in rows} == {(m["a_doc_id"], m["b_doc_id"]) for m in matches}
    assert [(r["a_doc_id"], r["b_doc_id"]) for r in rows] == sorted((r["a_doc_id"], r["b_doc_id"]) for r in rows)
    for r in rows:
        assert list(r)[:len(CONTRACT)] == CONTRACT and r["a_doc_id"] < r["b_doc_id"]
        assert 0.0 <= r["a_coverage"] <= 1.0 and 0.0 <= r["b_coverage"] <= 1.0
        assert r["derivation"] in {"wholly", "partially", "non"}
    by_pair = {frozenset((r["a_external_id"], r["b_external_id"])): r for r in rows}
    # the newspaper articles are later than the agency copy: the copy is the source
    wholly = by_pair[frozenset(("counter_0003", "counter_0003p"))]
    assert wholly["derivation"] in {"wholly", "partially"} and wholly["source_doc_id"] == docs["counter_0003"]["doc_id"]
    assert wholly["derived_doc_id"] == docs["counter_0003p"]["doc_id"]
    # a rewrite that copied no phrase is linked by its retold sentences (never clustered)
    retold = by_pair[frozenset(("counter_0069", "counter_0069p"))]
    assert retold["methods"] == ["rewrite"] and retold["derivation"] in {"wholly", "partially"}
    clusters = read_jsonl(cli("export", "clusters", "--db", db_name).stdout)
    rewritten = {(m["a_doc_id"], m["a_start"]) for m in matches if m["method"] == "rewrite"}
    assert rewritten and not rewritten & {(x["doc_id"], x["start"]) for c in clusters for x in c["members"]}

    text = cli("query", "doc", "counter_0003p", "--db", db_name).stdout
    assert "derived from counter_0003 (APP" in text and f"({wholly['derivation']}," in text
    assert "source of counter_0003p" in cli("query", "doc", "counter_0003", "--db", db_name).stdout
    got = read_jsonl(cli("query", "doc", "counter_0003p", "--db", db_name, "--json").stdout)
    rel = got[0]["derivations"][0]
    assert rel["relation"] == "derived from" and rel["other"]["external_id"] == "counter_0003"

    again = json.loads(cli("run", str(counter_slice), "--db", db_name, "--json").stdout.strip().splitlines()[-1])
    assert again["counts"]["derivations"] == 0
    assert cli("export", "derivations", "--db", db_name).stdout == first  # same bytes
