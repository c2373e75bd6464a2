"""Live monitoring: ``newsdedup serve --watch`` (resident state), claim events, Automations on them.

Everything is real: the console script serving the deployment against the test Prefect API, files
written into the watched folder, MongoDB read back, events read through the Prefect server's own
events API (``POST /api/events/filter``), an Automation created on that server that posts to a
webhook served here.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pymongo
import pytest

from conftest import ROOT, SEEDS, cli
from spreading import SOURCE, write_article

pytestmark = pytest.mark.slow

OUTLETS = ["وكالة ألف", "صحيفة باء", "موقع جيم", "قناة دال"]
WEB = "http://explorer.invalid:8765"


class Served:
    """``newsdedup serve ...`` as a subprocess whose stdout lines are collected as they come."""

    def __init__(self, args: list[str], env: dict) -> None:
        # SIGINT as a terminal delivers it, even when this test runs where it is ignored (a background job)
        self.proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "serve", *args], cwd=str(ROOT), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and self.lines.empty():
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.proc.stderr.read()[-3000:]}")
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} within {timeout}s; saw {self.seen}")

    def stop(self, sig=signal.SIGINT, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        return self.proc.returncode


def _events(api: str, prefix: str, want: int, timeout: float = 60, **filters) -> list[dict]:
    """Events whose name starts with ``prefix`` from the server's events API (oldest first), waiting
    until at least ``want`` of them are there (emission is asynchronous)."""
    body = {"filter": {"event": {"prefix": [prefix]}, "order": "ASC", **filters}, "limit": 50}
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.post(f"{api}/events/filter", json=body, timeout=30)
        assert r.status_code == 200, r.text
        got = r.json()["events"]
        if len(got) >= want or time.monotonic() > deadline:
            return got
        time.sleep(1)


def _run_records(db) -> list[dict]:
    return list(db.runs.find({"status": "completed"}, sort=[("started_at", 1)]))


def _export(db_name: str, kind: str, drop: tuple[str, ...] = ()) -> list[dict]:
    rows = [json.loads(x) for x in cli("export", kind, "--db", db_name).stdout.splitlines() if x.strip()]
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def _serve_env(prefect_api: str, **extra: str) -> dict:
    return dict(os.environ, PREFECT_API_URL=prefect_api, PREFECT_RUNNER_POLL_FREQUENCY="1", **extra)


def test_watched_inbox_runs_new_files_with_state_in_memory_and_emits_claim_events(
        prefect_api, mongo_uri, db_name, tmp_path):
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    name = f"live-{uuid.uuid4().hex[:8]}"
    env = _serve_env(prefect_api, NEWSDEDUP_ALERT_OUTLETS="3", NEWSDEDUP_WEB_URL=WEB)
    served = Served([str(inbox), "--watch", "--debounce", "0.3", "--db", db_name, "--name", name], env)
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client[db_name]
    try:
        served.wait_for("serving deployment")
        served.wait_for("run ")  # the catch-up run over the (empty) inbox
        # ---- two outlets carry the passage: a new claim
        write_article(inbox, 0, OUTLETS[0], "2015-08-01")
        write_article(inbox, 1, OUTLETS[1], "2015-08-02")
        line = served.wait_for("run ")
        if "2 new documents" not in line:  # the two files may have come in two batches
            served.wait_for("run ")
        runs = _run_records(db)
        watched = [r for r in runs if r["parameters"].get("only")]
        assert {Path(p).name for r in watched for p in r["parameters"]["only"]} == {"spread-0.jsonl", "spread-1.jsonl"}
        assert all(r["deployment_id"] and r["parameters"]["paths"] == [str(inbox.resolve())] for r in watched)
        cluster = db.clusters.find_one({"n_outlets": 2})
        assert cluster is not None and cluster["attribution"] == SOURCE
        cid = cluster["cluster_id"]

        # ---- a run elsewhere (the CLI, another process) adds a third outlet to the same database
        write_article(elsewhere, 2, OUTLETS[2], "2015-08-03")
        cli("run", str(elsewhere), "--db", db_name, env=env)
        assert db.clusters.find_one({"_id": cid})["n_outlets"] == 3

        # ---- the served process notices (the tokens moved) and reads the state again for the next file
        t0 = time.monotonic()
        write_article(inbox, 3, OUTLETS[3], "2015-08-04")
        line = served.wait_for("run ")
        latency = time.monotonic() - t0
        assert "1 new documents" in line, line
        last = _run_records(db)[-1]
        assert last["parameters"]["only"] == [str((inbox / "spread-3.jsonl").resolve())]
        assert last["resident_state"]["index"] == "outdated"  # held, but another run saved since
        assert last["resident_state"]["cluster_state"] == "outdated"
        c = db.clusters.find_one({"_id": cid})
        assert c["n_outlets"] == 4 and sorted(c["outlets"]) == sorted(OUTLETS), latency

        # ---- and keeps it for the next one
        write_article(inbox, 4, "إذاعة هاء", "2015-08-05")
        served.wait_for("run ")
        last = _run_records(db)[-1]
        assert last["resident_state"] == {"line_stats": "memory", "index": "memory", "cluster_state": "memory"}
        widest = db.clusters.find_one({"n_outlets": 5})  # the claim, perhaps renamed (its extent may change)
        assert widest is not None and widest["attribution"] == SOURCE

        # ---- the same clusters, passages and matches as fresh processes reading the same files in the same steps
        fresh = f"{db_name}_fresh"
        for r in _run_records(db):
            if r["counts"]["documents"]:
                cli("run", *(r["parameters"].get("only") or r["parameters"]["paths"]), "--db", fresh,
                    env={"PREFECT_API_URL": prefect_api})
        for kind in ("clusters", "passages", "matches"):
            assert _export(fresh, kind, ("run_id",)) == _export(db_name, kind, ("run_id",)), kind

        # ---- the claim's story as Prefect events, in order
        events = _events(prefect_api, "newsdedup.claim.", 5, resource={"labels": {"newsdedup.database": db_name}})
        mine = [e for e in events if e["resource"].get("newsdedup.database") == db_name]
        story = [(e["event"], e["payload"]["n_outlets"], e["payload"]["new_outlets"]) for e in mine]
        assert story == [("newsdedup.claim.new", 2, sorted(OUTLETS[:2])),
                         ("newsdedup.claim.gained-outlet", 3, [OUTLETS[2]]),
                         ("newsdedup.claim.reached-outlets", 3, [OUTLETS[2]]),
                         ("newsdedup.claim.gained-outlet", 4, [OUTLETS[3]]),
                         ("newsdedup.claim.gained-outlet", 5, ["إذاعة هاء"])], story
        assert {e["resource"]["prefect.resource.id"] for e in mine[:4]} == {f"newsdedup.cluster.{cid}"}
        assert mine[4]["resource"]["prefect.resource.id"] == f"newsdedup.cluster.{widest['cluster_id']}"
        assert cid in mine[4]["payload"]["replaces"]
        e = mine[0]
        assert e["resource"]["newsdedup.attribution"] == SOURCE
        assert e["payload"]["url"] == f"{WEB}/claims/{cid.replace(':', '%3A')}"
        assert e["payload"]["first_seen"]["outlet"] == OUTLETS[0]
        roles = {r["prefect.resource.role"] for r in e["related"]}
        assert {"outlet", "first-seen", "attribution", "newsdedup-run", "flow-run", "deployment"} <= roles
        assert {r["prefect.resource.name"] for r in e["related"] if r["prefect.resource.role"] == "outlet"} == \
            set(OUTLETS[:2])
    finally:
        client.close()
        code = served.stop(signal.SIGINT)
    assert code == 130, served.proc.stderr.read()[-2000:]


def test_resident_runs_and_fresh_process_runs_give_identical_exports(prefect_api, mongo_uri, db_name, tmp_path):
    """The same inputs, arriving in the same steps: runs of the served deployment (state kept in memory)
    and ``newsdedup run`` in a fresh process each time write byte-identical exports."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    manifest = tmp_path / "manifest.csv"
    shutil.copy(SEEDS / "manifest.csv", manifest)
    seeds = sorted(SEEDS.glob("*.txt"))
    name = f"same-{uuid.uuid4().hex[:8]}"
    served = Served([str(inbox), "--cron", "0 0 1 1 *", "--manifest", str(manifest), "--db", db_name,
                     "--name", name], _serve_env(prefect_api))
    fresh = f"{db_name}_fresh"
    try:
        served.wait_for("serving deployment")
        with get_client(sync_client=True) as client:
            dep = client.read_deployment_by_name(f"ingest/{name}")
        for step in (seeds[:2], seeds[2:4], seeds[4:]):
            for f in step:
                shutil.copy(f, inbox / f.name)
            fr = run_deployment(dep.id, timeout=240, poll_interval=1, as_subflow=False)
            assert fr.state.is_completed(), fr.state
            cli("run", str(inbox.resolve()), "--manifest", str(manifest.resolve()), "--db", fresh,
                env={"PREFECT_API_URL": prefect_api})
        client = pymongo.MongoClient(mongo_uri)
        runs = list(client[db_name].runs.find({}, sort=[("started_at", 1)]))
        client.close()
        assert [r["resident_state"]["index"] for r in runs[1:]] == ["memory", "memory"]
        assert [r["resident_state"]["cluster_state"] for r in runs[1:]] == ["memory", "memory"]
        exports = {}
        for kind in ("documents", "passages", "matches", "clusters", "rejects"):
            exports[kind] = cli("export", kind, "--db", db_name).stdout
            assert exports[kind] == cli("export", kind, "--db", fresh).stdout, kind
        assert '"cluster_id"' in exports["clusters"]  # the seeds do reuse a passage: a cluster is compared
    finally:
        code = served.stop(signal.SIGTERM)
    assert code == 143


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        n = int(self.headers.get("content-length") or 0)
        type(self).received.append(json.loads(self.rfile.read(n) or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


def test_documented_claim_alert_automation_is_accepted_and_fires(prefect_api, newsdedup_home, db_name, tmp_path,
                                                                   monkeypatch):
    from prefect.client.orchestration import get_client

    from newsdedup.flows.ingest import ingest

    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    _Hook.received = []
    url = f"http://127.0.0.1:{hook.server_port}/hook"
    name = f"alert-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    automations = []
    try:
        # the README's example script: a webhook block and the automation, created on the server
        out = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "claim_alerts.py"), "--webhook", url,
                              "--attribution", SOURCE, "--outlets", "3", "--name", name],
                             env=env, capture_output=True, text=True, timeout=120, cwd=str(ROOT))
        assert out.returncode == 0, out.stderr
        automations.append(out.stdout.strip())
        # the README's JSON form, through the prefect CLI
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        spec = json.loads(readme.split("<!-- automation-json -->")[1].split("```json")[1].split("```")[0])
        spec["name"] = f"{name}-json"
        with get_client(sync_client=True) as client:
            block_id = str(client.read_block_document_by_name(name, "custom-webhook").id)
        spec["actions"][0]["block_document_id"] = block_id
        made = subprocess.run([sys.executable, "-m", "prefect", "automation", "create", "--from-json", json.dumps(spec)],
                              env=env, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stdout + made.stderr
        with get_client(sync_client=True) as client:
            found = [a for a in client.read_automations() if a.name.startswith(name)]
            automations += [str(a.id) for a in found if str(a.id) not in automations]
            assert len(found) == 2
            for a in found:
                assert a.trigger.expect == {"newsdedup.claim.reached-outlets"}
                # the server may hand a label back as given or as a one-value list: both match the same
                assert a.trigger.match.get("newsdedup.attribution") in (SOURCE, [SOURCE]) and a.enabled

        # a claim attributed to the source reaches 3 outlets: the automation posts to the webhook
        monkeypatch.setenv("NEWSDEDUP_ALERT_OUTLETS", "3")
        feed = tmp_path / "feed"
        for k, (outlet, day) in enumerate(zip(OUTLETS[:3], ("2015-08-01", "2015-08-02", "2015-08-03"))):
            write_article(feed / str(k), k, outlet, day)
        for k in range(3):
            ingest(paths=[str(feed / str(k))], db=db_name)
        deadline = time.monotonic() + 90
        while len(_Hook.received) < 2 and time.monotonic() < deadline:  # one per automation
            time.sleep(1)
        texts = [r.get("text", "") for r in _Hook.received]
        assert len(texts) == 2, texts
        for t in texts:
            assert "3 outlets now carry a claim attributed to رويترز" in t and all(o in t for o in OUTLETS[:3])
            assert f"First seen: {OUTLETS[0]}" in t
    finally:
        hook.shutdown()
        with get_client(sync_client=True) as client:
            for a in automations:
                client.delete_automation(uuid.UUID(a))
