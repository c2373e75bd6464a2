"""Operations and reliability: killed runs, concurrent runs, the run lock, literal queries, secrets, retries.

Everything runs against the real embedded SecantusDB server and real Prefect (the session's test harness
API): the CLI in subprocesses that are SIGKILLed or run side by side, pymongo to look at the database.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymongo
import pytest
from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, OperationFailure, \
    ServerSelectionTimeoutError

from conftest import ROOT, cli, read_jsonl

pytestmark = pytest.mark.slow

SAUDI = "bench/saudinewsnet/2015-07-21.zip"
FIELD_MAP = {"text": "content", "outlet": "source", "published": "date_extracted"}
MAP_ARG = "text=content,outlet=source,published=date_extracted"
PER_OUTLET = 15  # < 20 documents per outlet: boilerplate flags do not depend on which run saw which outlet
BATCH = "25"


# ---------------------------------------------------------------------------- helpers
def _client(mongo_uri: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=10_000, tz_aware=True)


def _popen_run(*args: str, env: dict | None = None) -> subprocess.Popen:
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "run", *args], cwd=str(ROOT), env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(proc: subprocess.Popen, condition, timeout: float = 300) -> bool:
    """SIGKILL ``proc`` as soon as ``condition()`` holds; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            return True
        time.sleep(0.02)
    proc.kill()
    proc.wait(30)
    raise AssertionError("the run neither reached the kill point nor ended")


def check_integrity(db) -> None:
    """No dangling references anywhere, no duplicates, nothing left half done."""
    rows = list(db.documents.find({}, {"_id": 1, "doc_id": 1, "duplicate_of": 1}))
    doc_ids = [d["_id"] for d in rows]
    assert len(doc_ids) == len(set(doc_ids))
    assert all(d["doc_id"] == d["_id"] for d in rows)
    docs = {d["_id"] for d in rows if not d.get("duplicate_of")}  # kept documents: the only ones anything names
    assert all(d["duplicate_of"] in docs for d in rows if d.get("duplicate_of")), "duplicate of a missing document"
    # every run that did not finish was completed by a later one
    assert db.runs.count_documents({"status": {"$in": ["interrupted", "killed", "failed"]}, "recovered_by": None}) == 0
    assert db.runs.count_documents({"status": "running"}) == 0
    passages = list(db.passages.find({}, {"passage_id": 1, "doc_id": 1, "start": 1, "end": 1, "cluster_id": 1}))
    assert len({p["passage_id"] for p in passages}) == len(passages)
    assert len({(p["doc_id"], p["start"]) for p in passages}) == len(passages)
    assert {p["doc_id"] for p in passages} <= docs, "passages without their document"
    assert docs <= {p["doc_id"] for p in passages}, "documents without passages"
    for m in db.matches.find({}, {"a_doc_id": 1, "b_doc_id": 1}):
        assert m["a_doc_id"] in docs and m["b_doc_id"] in docs, "match naming a missing document"
        assert m["a_doc_id"] < m["b_doc_id"]
    clusters = {c["_id"]: c for c in db.clusters.find({}, {"members": 1, "size": 1})}
    for c in clusters.values():
        assert {m["doc_id"] for m in c["members"]} <= docs, "cluster member naming a missing document"
        assert c["size"] == len(c["members"])
    pointed = {p["cluster_id"] for p in passages if p.get("cluster_id") is not None}
    assert pointed <= set(clusters), "passage pointing at a missing cluster"
    # one derivation per pair of documents sharing a match, and none for a pair that shares none
    pairs = {(m["a_doc_id"], m["b_doc_id"]) for m in db.matches.find({}, {"a_doc_id": 1, "b_doc_id": 1})}
    derived = [(d["a_doc_id"], d["b_doc_id"]) for d in db.derivations.find({}, {"a_doc_id": 1, "b_doc_id": 1})]
    assert len(derived) == len(set(derived)) and set(derived) == pairs, "derivations out of step with matches"
    assert db.locks.count_documents({}) == 0


def snapshot(db) -> dict:
    """What two equivalent runs must agree on (ids and content, not run ids or ingestion order)."""
    return {
        "documents": sorted((d["_id"], d["external_id"], d.get("lang"), d.get("clean_text"),
                             d.get("published")) for d in db.documents.find()),
        "passages": sorted((p["_id"], p["start"], p["end"], p["boilerplate"], p.get("boilerplate_reason"),
                            p.get("cluster_id")) for p in db.passages.find()),
        "matches": sorted((m["_id"], m["a_doc_id"], m["a_start"], m["a_end"], m["b_doc_id"], m["b_start"],
                           m["b_end"], m["score"], m["method"]) for m in db.matches.find()),
        "clusters": sorted((c["_id"], c["size"], tuple(c["outlets"]), c.get("attribution"),
                            tuple((m["doc_id"], m["start"], m["end"], m["score"]) for m in c["members"]))
                           for c in db.clusters.find()),
        # a pair's derivation is computed from all its matches, whichever run wrote them
        "derivations": sorted(tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in d.items() if k != "run_id"))
                              for d in db.derivations.find()),
    }


def _counts(snap: dict) -> dict:
    return {k: len(v) for k, v in snap.items()}


# ---------------------------------------------------------------------------- corpus
@pytest.fixture(scope="module")
def corpus(shared, tmp_path_factory) -> list[Path]:
    """SaudiNewsNet articles, the first 15 of each outlet, split into three JSONL files."""
    src = shared(SAUDI)
    with zipfile.ZipFile(src) as z:
        records = json.loads(z.read(z.namelist()[0]))
    seen: collections.Counter = collections.Counter()
    chosen = []
    for r in records:
        if (r.get("content") or "").strip() and seen[r["source"]] < PER_OUTLET:
            seen[r["source"]] += 1
            chosen.append(r)
    out = tmp_path_factory.mktemp("ops-corpus")
    parts = []
    for k in range(3):
        p = out / f"part{k + 1}.jsonl"
        with open(p, "w", encoding="utf-8") as f:
            for r in chosen[k::3]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        parts.append(p)
    return parts


@pytest.fixture(scope="module")
def reference(prefect_api, corpus, mongo_uri):
    """One uninterrupted run over the whole corpus in its own database."""
    from newsdedup.flows.ingest import ingest

    db = f"ref_{uuid.uuid4().hex[:8]}"
    summary = ingest(paths=[str(p) for p in corpus], field_map=FIELD_MAP, db=db, batch_size=int(BATCH))
    assert summary["status"] == "completed"
    client = _client(mongo_uri)
    try:
        check_integrity(client[db])
        snap = snapshot(client[db])
    finally:
        client.close()
    assert _counts(snap)["matches"] >= 10 and _counts(snap)["clusters"] >= 5, _counts(snap)
    return {"db": db, "snapshot": snap, "summary": summary}


# ---------------------------------------------------------------------------- crash and resume
def test_killed_runs_are_completed_by_the_next_run(reference, corpus, mongo_uri, db_name):
    args = [*map(str, corpus), "--map", MAP_ARG, "--db", db_name, "--batch-size", BATCH]
    client = _client(mongo_uri)
    db = client[db_name]
    try:
        # 1. killed while reading and analyzing: some documents stored, no passages yet
        first = _popen_run(*args)
        assert _kill_when(first, lambda: db.documents.estimated_document_count() > 0), \
            "the run finished before it could be killed while reading and analyzing"
        assert db.documents.count_documents({}) > 0
        assert db.runs.find_one({"pid": first.pid})["status"] == "running"

        # 2. killed while it holds the reuse lock, after storing matches, before its passages are written
        second = _popen_run(*args)
        assert _kill_when(second, lambda: (db.locks.find_one({"_id": "reuse"}) or {}).get("pid") == second.pid
                          and db.matches.estimated_document_count() > 0), \
            "the run finished before it could be killed while matching and clustering"
        lock = db.locks.find_one({"_id": "reuse"})
        assert lock is not None and lock["pid"] == second.pid, "a killed run leaves its lock behind"

        # 3. the next run takes over the dead run's lock (no hour-long wait) and completes the work
        t0 = time.monotonic()
        third = cli("run", *args, "--json", timeout=240)
        assert time.monotonic() - t0 < 200
        summary = json.loads(third.stdout.strip().splitlines()[-1])
        assert summary["status"] == "completed"

        check_integrity(db)
        snap = snapshot(db)
        assert _counts(snap) == _counts(reference["snapshot"])
        assert snap == reference["snapshot"]

        # the killed runs are recorded as such, the last one as completed
        statuses = {r["pid"]: r["status"] for r in db.runs.find({}, {"pid": 1, "status": 1})}
        assert statuses[first.pid] == "killed" and statuses[second.pid] == "killed"
        assert sorted(statuses.values()) == ["completed", "killed", "killed"]

        # and one more run adds nothing
        again = json.loads(cli("run", *args, "--json").stdout.strip().splitlines()[-1])
        assert again["counts"]["documents"] == 0 and again["counts"]["matches"] == 0
        assert snapshot(db) == reference["snapshot"]
    finally:
        client.close()


# ---------------------------------------------------------------------------- concurrency
def test_two_concurrent_runs_on_overlapping_inputs(reference, corpus, mongo_uri, db_name):
    """Two runs started together on overlapping inputs. The runs take a few seconds and process start-up
    jitter sometimes lets one finish before the other begins, which would prove nothing about
    concurrency: then the pair is run again in a fresh database (up to three times). Every attempt must
    pass every check; at least one must have overlapped."""
    overlapped: list[bool] = []
    while not any(overlapped) and len(overlapped) < 3:
        overlapped.append(_concurrent_pair(reference, corpus, mongo_uri, f"{db_name}_{len(overlapped)}"))
    assert any(overlapped), "the two runs never overlapped in time"


def _concurrent_pair(reference, corpus, mongo_uri, db_name) -> bool:
    """One pair of concurrent runs into ``db_name``, checked; True if they overlapped in time.

    A small run is over in a few seconds, less than the start-up jitter of two processes, so the
    test holds the ``reuse`` lock (as another run would) until both runs have recorded their start:
    both then read and analyze concurrently and contend for the lock, whichever starts first."""
    common = ["--map", MAP_ARG, "--db", db_name, "--batch-size", BATCH, "--json"]
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, db_name], cwd=str(ROOT), stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    # both runs' output is read from the start, in threads: a run that blocks on a full pipe while it
    # holds the lock would stall the other one
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        assert holder.stdout.readline().strip() == "locked"
        a = _popen_run(str(corpus[0]), str(corpus[1]), *common)
        b = _popen_run(str(corpus[1]), str(corpus[2]), *common)
        outputs = [pool.submit(p.communicate, timeout=300) for p in (a, b)]
        watch = _client(mongo_uri)
        try:
            deadline = time.monotonic() + 120
            while (watch[db_name].runs.count_documents({}) < 2 and not any(o.done() for o in outputs)
                   and time.monotonic() < deadline):
                time.sleep(0.1)
        finally:
            watch.close()
    finally:
        holder.send_signal(signal.SIGKILL)  # a dead holder's lock is taken over by the waiting run
        holder.wait(30)
        pool.shutdown(wait=False)
    (out_a, err_a), (out_b, err_b) = outputs[0].result(), outputs[1].result()
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    sa, sb = json.loads(out_a.strip().splitlines()[-1]), json.loads(out_b.strip().splitlines()[-1])
    # every document of the shared file was inserted by exactly one of the two runs
    assert sa["counts"]["documents"] + sb["counts"]["documents"] == len(reference["snapshot"]["documents"])

    client = _client(mongo_uri)
    try:
        db = client[db_name]
        check_integrity(db)
        snap = snapshot(db)
        ref = reference["snapshot"]
        # exactly one copy of each document, analyzed and segmented as by a single run
        for kind in ("documents", "passages"):
            assert [x[:5] for x in snap[kind]] == [x[:5] for x in ref[kind]], kind
        # clusters are consistent (check_integrity) and the same claims are found: matching uses corpus
        # statistics (stock n-grams, DF caps) as they are when each run matches, so arrival order may
        # shift a weak match or two; the shared reuse must not depend on it.
        got = {(m[1], m[4]) for m in snap["matches"]}
        want = {(m[1], m[4]) for m in ref["matches"]}
        assert len(got & want) >= 0.9 * len(want), (len(got & want), len(want))
        # what moves is the weak light-rewriting evidence ('phrases', scored by the share of the span the
        # shared phrases cover); copies verified by similarity are all found
        strong_got = {(m[1], m[4]) for m in snap["matches"] if m[8] != "phrases" and m[7] >= 50}
        strong_want = {(m[1], m[4]) for m in ref["matches"] if m[8] != "phrases" and m[7] >= 50}
        assert len(strong_got & strong_want) >= 0.95 * len(strong_want), (len(strong_got & strong_want), len(strong_want))
        assert abs(len(snap["clusters"]) - len(ref["clusters"])) <= max(3, len(ref["clusters"]) * 15 // 100)
        runs = list(db.runs.find())
        assert [r["status"] for r in runs] == ["completed", "completed"]
        # did the two runs really overlap in time (else this attempt proves nothing about concurrency)
        (s1, e1), (s2, e2) = [(r["started_at"], r["ended_at"]) for r in runs]
        return s1 < e2 and s2 < e1
    finally:
        client.close()


# ---------------------------------------------------------------------------- the lock itself
_HOLDER = textwrap.dedent("""
    import sys, time
    from newsdedup.config import load_settings
    from newsdedup.db import Store, connect
    s = load_settings(sys.argv[1])
    store = Store(connect(s), s.db_name)
    with store.lock("reuse"):
        print("locked", flush=True)
        time.sleep(600)
""")


def _store(db_name: str):
    from newsdedup.config import load_settings
    from newsdedup.db import Store, connect

    s = load_settings(db_name)
    return Store(connect(s), s.db_name)


def test_lock_of_a_killed_holder_is_taken_over_and_live_ones_are_respected(newsdedup_home, mongo_uri, db_name):
    from newsdedup.processes import host_key, pid_start

    store = _store(db_name)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, db_name], cwd=str(ROOT), stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == "locked"
        held = store.db.locks.find_one({"_id": "reuse"})
        assert held["pid"] == holder.pid and held["host"] == host_key() and held["expires"] > time.time() + 3000
        # alive on this host: never taken, even by a patient waiter
        with pytest.raises(TimeoutError):
            with store.lock("reuse", wait=1.0, poll=0.1):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        assert store.db.locks.find_one({"_id": "reuse"})["pid"] == holder.pid  # left behind
        t0 = time.monotonic()
        with store.lock("reuse", wait=10, poll=0.1) as owner:
            assert time.monotonic() - t0 < 5
            assert store.db.locks.find_one({"_id": "reuse"})["owner"] == owner
        assert store.db.locks.count_documents({}) == 0

        now = time.time()
        # a lock from another machine cannot be checked: it is respected until it expires
        store.db.locks.insert_one({"_id": "other", "owner": "elsewhere:1:x", "host": "elsewhere|boot|pid:[1]",
                                   "pid": 1, "expires": now + 3600})
        with pytest.raises(TimeoutError):
            with store.lock("other", wait=1.0, poll=0.1):
                pass
        store.db.locks.update_one({"_id": "other"}, {"$set": {"expires": now - 1}})
        with store.lock("other", wait=5, poll=0.1):
            pass
        # a pid of this host that now belongs to another process (pid reuse) does not hold the lock
        me = os.getpid()
        store.db.locks.insert_one({"_id": "reused", "owner": "x", "host": host_key(), "pid": me,
                                   "pid_start": str(int(pid_start(me)) - 1), "expires": now + 3600})
        with store.lock("reused", wait=5, poll=0.1):
            pass
        # old-style lock records without holder fields still expire
        store.db.locks.insert_one({"_id": "legacy", "owner": "h:1:y", "expires": now - 1})
        with store.lock("legacy", wait=5, poll=0.1):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)
        store.db.client.drop_database(db_name)
        store.close()


# ---------------------------------------------------------------------------- literal queries
def test_query_doc_and_search_arguments_are_literal(seeds_run):
    db = seeds_run["db"]
    for q in ('{"$ne": null}', '{"$regex": ".*"}', "000_0fc2040b98299895 || 1"):
        proc = cli("query", "doc", q, "--json", "--db", db, check=False)
        assert proc.returncode != 0 and proc.stdout.strip() == ""
        assert len(proc.stderr.strip().splitlines()) == 1 and "no document" in proc.stderr
    for q in ('{"$ne": null}', '{"$expr": {"$eq": [1, 1]}}', "function() { return true; }"):
        proc = cli("query", "search", q, "--json", "--db", db)
        assert read_jsonl(proc.stdout) == [], q
    # the real external id still works, so the lookups above did run
    assert read_jsonl(cli("query", "doc", "000_0fc2040b98299895", "--json", "--db", db).stdout)


# ---------------------------------------------------------------------------- secrets
def test_db_uri_redact_masks_the_password_without_connecting():
    uri = "mongodb://user:s3cret-Pa55@127.0.0.1:1/?authSource=admin"
    red = cli("db", "uri", "--redact", "--no-check", env={"MONGODB_URI": uri}).stdout.strip()
    assert "s3cret" not in red
    assert red.startswith("mongodb://user:***@127.0.0.1:1/")
    plain = cli("db", "uri", "--no-check", env={"MONGODB_URI": uri}).stdout.strip()
    assert "s3cret-Pa55" in plain  # the contract: masked only with --redact
    srv = cli("db", "uri", "--redact", "--no-check",
              env={"MONGODB_URI": "mongodb+srv://u%40x:p%2Fw%3Ad@cluster.example.net/db"})
    assert srv.stdout.strip() == "mongodb+srv://u%40x:***@cluster.example.net/db"


def test_redact_uri_cases():
    from newsdedup.config import redact_uri

    assert redact_uri("mongodb://127.0.0.1:27017/") == "mongodb://127.0.0.1:27017/"
    assert redact_uri("mongodb://only-user@h/") == "mongodb://only-user@h/"
    assert redact_uri("mongodb://a:b@h1:1,h2:2/db?replicaSet=rs") == "mongodb://a:***@h1:1,h2:2/db?replicaSet=rs"
    assert redact_uri("mongodb://a:@h/") == "mongodb://a:***@h/"


def test_an_authenticated_run_never_stores_or_prints_the_password(prefect_api, mongo_uri, db_name, tmp_path):
    user, password = f"ops_{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    admin = _client(mongo_uri)
    admin.admin.command("createUser", user, pwd=password, roles=["root"])
    host = mongo_uri.split("://", 1)[1].split("/", 1)[0]
    auth_uri = f"mongodb://{user}:{password}@{host}/?authSource=admin"
    try:
        doc = tmp_path / "a.txt"
        doc.write_text("خبر قصير عن افتتاح مستشفى جديد في المدينة بحضور وزير الصحة.", encoding="utf-8")
        env = {"MONGODB_URI": auth_uri}
        proc = cli("run", str(doc), "--db", db_name, "--json", env=env)
        assert password not in proc.stdout + proc.stderr
        assert password not in cli("db", "uri", "--redact", "--db", db_name, env=env).stdout
        db = admin[db_name]
        run = db.runs.find_one()
        assert run["status"] == "completed" and run["database"]["uri"] == f"mongodb://{user}:***@{host}/?authSource=admin"
        assert not run["database"]["embedded"]
        for name in db.list_collection_names():
            for row in db[name].find():
                assert password not in json.dumps(row, default=str, ensure_ascii=False), name
        # the flow run's parameters in Prefect do not carry it either
        from prefect.client.orchestration import get_client

        async def params():
            async with get_client() as c:
                fr = await c.read_flow_run(uuid.UUID(run["flow_run_id"]))
                return fr.parameters
        import asyncio

        assert password not in json.dumps(asyncio.run(params()), default=str)

        # a wrong password: one line on stderr, no password in it, no retries on an auth error
        bad = cli("run", str(doc), "--db", db_name, env={"MONGODB_URI": f"mongodb://{user}:wrong-{password}@{host}/"},
                  check=False, timeout=120)
        assert bad.returncode != 0
        assert len(bad.stderr.strip().splitlines()) == 1 and password not in bad.stderr
        assert "auth" in bad.stderr.lower()
    finally:
        admin.admin.command("dropUser", user)
        admin.close()


def test_env_file_is_ignored_and_example_exists():
    assert (ROOT / ".env.example").is_file()
    assert "PASSWORD" in (ROOT / ".env.example").read_text()
    r = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=str(ROOT))
    assert r.returncode == 0, ".env is not git-ignored"
    r = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=str(ROOT))
    assert r.returncode == 1, ".env.example must be committed"
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


# ---------------------------------------------------------------------------- retries
def _run_task_state(fn, *args):
    from prefect import flow

    states = []

    @flow
    def wrapper() -> None:
        states.append(fn(*args, return_state=True))  # not returned: a failed task would fail the flow

    wrapper()
    return states[0]


def test_retry_condition_on_real_states(prefect_api):
    from prefect import flow, task

    from newsdedup.flows.runtime import retry_on_db_error

    @task
    def boom(exc):
        raise exc

    @task
    def fine():
        return 1

    cases = [(AutoReconnect("connection reset"), True), (ConnectionFailure("refused"), True),
             (ServerSelectionTimeoutError("no server"), True),
             (DuplicateKeyError("E11000"), False), (OperationFailure("auth failed", 18), False),
             (ValueError("bad data"), False)]
    states = []

    @flow
    def all_cases() -> None:
        states.extend(boom(exc, return_state=True) for exc, _ in cases)
        states.append(fine(return_state=True))

    all_cases()
    for (exc, retry), state in zip(cases, states):
        assert state.is_failed()
        assert retry_on_db_error(None, None, state) is retry, exc
    assert states[-1].is_completed() and retry_on_db_error(None, None, states[-1]) is False


def test_db_task_retries_until_the_server_is_back(prefect_api, tmp_path):
    """A DB task (the flow's retry options) against a server that is down and restarted meanwhile."""
    from prefect import task

    from newsdedup.db import Store
    from newsdedup.embedded import ensure_server, stop_server
    from newsdedup.flows.runtime import DB_TASK

    home = tmp_path / "home2"
    uri = ensure_server(home)
    stop_server(home)
    attempts: list[float] = []
    t0 = time.monotonic()

    @task(**DB_TASK)
    def count_docs() -> int:
        attempts.append(time.monotonic() - t0)
        store = Store(pymongo.MongoClient(uri, serverSelectionTimeoutMS=1000), "retry_test")
        try:
            store.insert_new("documents", [{"_id": "d1"}])
            return store.count("documents")
        finally:
            store.close()

    @task(**DB_TASK)
    def bad_data() -> None:
        attempts.append(-1.0)
        raise ValueError("not a connection problem")

    restarter = threading.Timer(2.5, ensure_server, args=(home,))
    restarter.start()
    try:
        state = _run_task_state(count_docs)
        assert state.is_completed(), state
        assert state.result() == 1
        assert len(attempts) >= 2, attempts  # the first attempt failed: server down
        attempts.clear()
        state = _run_task_state(bad_data)
        assert state.is_failed() and attempts == [-1.0]  # not retried
    finally:
        restarter.join()
        stop_server(home)


# ---------------------------------------------------------------------------- incremental clusters
def test_incremental_runs_keep_clusters_equal_to_a_recompute_from_all_matches(prefect_api, corpus, mongo_uri):
    """Three runs, one file each, into one database: after each run the stored clusters and the
    passages' cluster ids are exactly what clustering all stored matches from scratch gives.
    (Incremental runs recompute only the passages connected to their new matches.) The second
    run uses the cluster state the first one saved, so its clusters are grown from the stored ones;
    before the third, that file is deleted, so the third rebuilds it from the database (without the
    members' attributions, found again in the stored member texts) and grows the clusters it touches.
    The running totals equal a count after each run."""
    from newsdedup.config import load_settings, redact_uri
    from newsdedup.db import resolve_uri
    from newsdedup.flows.ingest import ingest
    from newsdedup.tasks.derived_state import CLUSTER_STATE, LINE_STATS, index_dir
    from newsdedup.tasks.line_stats import LineStats
    from newsdedup.tasks.records import assign_cluster
    from newsdedup.tasks.cluster import build_clusters
    from newsdedup.tasks.reuse import match_from_row

    db_name = f"incr_{uuid.uuid4().hex[:8]}"
    client = _client(mongo_uri)
    db = client[db_name]
    try:
        settings = load_settings(db_name)
        state_file = index_dir(settings.home, redact_uri(resolve_uri(settings)), settings.db_name) / CLUSTER_STATE
        for k, part in enumerate(corpus):
            if k == 2:
                assert state_file.exists()
                state_file.unlink()
            summary = ingest(paths=[str(part)], field_map=FIELD_MAP, db=db_name, batch_size=int(BATCH))
            assert summary["status"] == "completed"
            assert state_file.exists()
            # the path the cluster stage took: rebuilt on the first run, grown after it (also from a state
            # rebuilt from the database, whose members' attributions are found again in the stored texts)
            assert ("cluster_grow" in summary["timings"]) == (k >= 1), (k, summary["timings"])
            check_integrity(db)
            counted = {c: db[c].count_documents({}) for c in ("documents", "passages", "matches", "clusters",
                                                              "derivations", "rejects")}
            counted["boilerplate"] = db.passages.count_documents({"boilerplate": True})
            counted["duplicates"] = db.documents.count_documents({"duplicate_of": {"$ne": None}})
            counted["documents"] -= counted["duplicates"]
            assert summary["totals"] == counted, f"after run {k + 1}"
            # with each match's evidence and kind; retold sentences (method rewrite) link documents for their
            # derivation, never clusters
            ms = [match_from_row(m) for m in db.matches.find({"method": {"$ne": "rewrite"}})]
            docs = {d["_id"]: d for d in db.documents.find({}, {"external_id": 1, "outlet": 1, "published": 1,
                                                                 "ingest_seq": 1, "text": 1})}
            expected = build_clusters(ms, docs)
            stored = {c["_id"]: c for c in db.clusters.find()}
            assert sorted(stored) == [c["cluster_id"] for c in expected], f"after run {k + 1}"
            for c in expected:  # whole documents: members with texts and scores, anchor, first seen, attribution
                s = stored[c["cluster_id"]]
                assert {f: v for f, v in s.items() if f not in ("_id", "content_sha")} == c, f"after run {k + 1}"
            spans: dict = {}
            for c in expected:
                for m in c["members"]:
                    spans.setdefault(m["doc_id"], []).append((m["start"], m["end"], c["cluster_id"]))
            for p in db.passages.find({}, {"doc_id": 1, "start": 1, "end": 1, "boilerplate": 1, "cluster_id": 1}):
                want = None if p["boilerplate"] else assign_cluster(p["start"], p["end"], spans.get(p["doc_id"], ()))
                assert p.get("cluster_id") == want, (k, p)
            # the saved per-outlet line counts (read by the next run instead of every document) are current
            saved = LineStats.load(state_file.parent / LINE_STATS, db.meta.find_one({"_id": "line_stats"})["token"])
            recount = LineStats()
            recount.add_all((d.get("outlet"), d["ingest_seq"], d["line_keys"]) for d in db.documents.find())
            assert saved is not None and saved.outlets == recount.outlets and saved.n_docs == recount.n_docs
        assert len(stored) >= 5
    finally:
        client.drop_database(db_name)
        client.close()


def _interrupt_when(proc: subprocess.Popen, run_of, condition, still=None, timeout: float = 300) -> float | None:
    """Ctrl-C once ``condition(run)`` holds for the run's record ``run_of()``, as at a terminal: the run's
    whole process group is stopped first (Ctrl-Z), so that it cannot move on while ``still(run)`` confirms
    that the point was not passed meanwhile (the poll's own read lags behind a busy run), then SIGINT to the
    group (Ctrl-C; the forked workers get it too) and SIGCONT. Seconds from Ctrl-C until it exited; None if
    the run ended, or passed the point, before it could be stopped there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if condition(run_of() or {}):
            try:
                os.killpg(proc.pid, signal.SIGSTOP)
            except ProcessLookupError:
                return None
            time.sleep(0.3)  # what the run had sent to the database before it stopped lands
            if proc.poll() is not None or (still is not None and not still(run_of() or {})):
                os.killpg(proc.pid, signal.SIGCONT)
                proc.wait(120)
                return None
            os.killpg(proc.pid, signal.SIGINT)
            os.killpg(proc.pid, signal.SIGCONT)
            t = time.monotonic()
            proc.wait(60)
            return time.monotonic() - t
        time.sleep(0.005)
    proc.kill()
    proc.wait(30)
    raise AssertionError("the run neither reached the interruption point nor ended")


def _ctrl_c_run(corpus, db, condition, still, attempts: int = 3) -> tuple[subprocess.Popen, float, str]:
    """Start ``newsdedup run`` on the corpus in database ``db`` and Ctrl-C it at the point; a run that got
    past the point first (on a busy machine) is dropped and started again in a fresh database, up to
    ``attempts`` times. Returns the process, seconds until it exited, and its stderr."""
    for attempt in range(attempts):
        if attempt:
            db.client.drop_database(db.name)
        args = [*map(str, corpus), "--map", MAP_ARG, "--db", db.name, "--batch-size", BATCH]
        proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "run", *args], cwd=str(ROOT),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        waited = _interrupt_when(proc, lambda: db.runs.find_one({"pid": proc.pid}), condition, still)
        _out, err = proc.communicate(timeout=60)
        if waited is not None:
            return proc, waited, err
    raise AssertionError(f"in {attempts} attempts the run got past the interruption point before it was stopped")


def _running(run: dict) -> bool:
    return run.get("status") == "running"


def _aligned_not_clustered(run: dict) -> bool:
    return _running(run) and run["progress"]["aligned_seq"] is not None and not run["progress"]["clusters_done"]


def _clustered_not_done(run: dict) -> bool:
    return _running(run) and bool(run["progress"]["clusters_done"])


INTERRUPTED_LINE = "newsdedup: interrupted; the run is recorded as interrupted"


@pytest.mark.parametrize("stage, condition, still", [
    # in the reuse stage, once some batches' matches are stored: the next run does only what is left
    ("matching", lambda r: (r.get("progress") or {}).get("aligned_seq") is not None, _aligned_not_clustered),
    # after the clusters are stored: passages, the search index, the Prefect artifacts
    ("after the clusters", lambda r: (r.get("progress") or {}).get("clusters_done"), _clustered_not_done),
], ids=["matching", "late-stage"])
def test_ctrl_c_is_recorded_and_the_next_run_does_only_what_is_left(reference, corpus, mongo_uri, db_name,
                                                                     stage, condition, still):
    """Issue #15, point 2: Ctrl-C during a run, then the same command again."""
    client = _client(mongo_uri)
    db = client[db_name]
    try:
        first, waited, err = _ctrl_c_run(corpus, db, condition, still)
        assert first.returncode == 130, err
        assert waited < 30
        assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(INTERRUPTED_LINE), err
        run = db.runs.find_one({"pid": first.pid})
        assert run["status"] == "interrupted" and run["progress"]["aligned_seq"] is not None
        assert run["progress"]["clusters_done"] is (stage != "matching")
        assert db.locks.count_documents({}) == 0  # let go on the way out

        # queries say that the results are incomplete (on stderr: --json output stays clean)
        q = cli("query", "clusters", "--json", "--db", db.name)
        assert "was interrupted" in q.stderr and run["_id"] in q.stderr
        assert all(json.loads(line) for line in q.stdout.splitlines())

        # the same command again: completes the interrupted run's documents without aligning its aligned ones
        args = [*map(str, corpus), "--map", MAP_ARG, "--db", db.name, "--batch-size", BATCH]
        second = json.loads(cli("run", *args, "--json").stdout.strip().splitlines()[-1])
        assert second["status"] == "completed"
        assert second["counts"]["documents"] == 0 and second["counts"]["recovered_runs"] == 1
        assert second["counts"]["recovered_documents"] == db.documents.count_documents({"run_id": run["_id"]})
        ref_pairs = reference["summary"]["counts"]["candidate_pairs"]
        assert second["counts"]["candidate_pairs"] < ref_pairs, (second["counts"], ref_pairs)
        assert db.runs.find_one({"_id": run["_id"]})["recovered_by"] == second["run_id"]
        check_integrity(db)
        assert snapshot(db) == reference["snapshot"]
        assert "interrupted" not in cli("query", "clusters", "--db", db.name).stderr
    finally:
        client.drop_database(db.name)
        client.close()


def test_ctrl_c_after_the_run_is_recorded_completed_says_so(reference, corpus, mongo_uri, db_name):
    """Ctrl-C while a completed run's process winds down (Prefect's teardown drops a KeyboardInterrupt
    there): exit 130 with a line that says the results are complete, no traceback, the run left completed."""
    client = _client(mongo_uri)
    db = client[db_name]
    try:
        first, waited, err = _ctrl_c_run(corpus, db, lambda r: r.get("status") == "completed", None)
        assert first.returncode == 130, err
        assert waited < 30
        run = db.runs.find_one({"pid": first.pid})
        assert run["status"] == "completed"
        assert "Traceback" not in err, err
        assert err.strip().splitlines()[-1] == f"newsdedup: interrupted after run {run['_id']} had completed; " \
                                               "its results are complete", err
        assert db.locks.count_documents({}) == 0
        assert "interrupted" not in cli("query", "clusters", "--db", db.name).stderr
        check_integrity(db)
        assert snapshot(db) == reference["snapshot"]
    finally:
        client.drop_database(db.name)
        client.close()
