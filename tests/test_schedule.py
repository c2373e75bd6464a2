"""A ``serve --cron`` deployment fires by itself on the real local Prefect server (issue #15, point 1).

``newsdedup serve`` is the real console script, with no PREFECT_API_URL: it starts the local Prefect
server under a fresh NEWSDEDUP_HOME, as a user's first ``serve`` does. The server's scheduler loop is
shortened with Prefect's own setting, and nothing triggers a run by hand until the scheduled one has
been created and completed: it must come from the schedule (``auto_scheduled``). Then the trigger
command that ``serve`` printed is run in a new shell without PREFECT_API_URL, and Ctrl-C (a real
SIGINT) stops ``serve`` with exit code 130 and a paused schedule.

With SQLAlchemy 2.1 the scheduler failed on every loop (``Can't evaluate bulk DML statement``) and
no run was ever created; its errors were hidden because the server inherited the console log level
CRITICAL that ``newsdedup run`` keeps for its own console.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pymongo
import pytest

from conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow


def _api(api: str, method: str, path: str, **kw):
    r = httpx.request(method, f"{api}{path}", timeout=30, **kw)
    r.raise_for_status()
    return r.json()


def _runs_of(api: str, deployment_id: str) -> list[dict]:
    return _api(api, "POST", "/flow_runs/filter", json={"deployments": {"id": {"any_": [deployment_id]}}})


def _wait(pred, timeout: float, what: str, proc: subprocess.Popen | None = None, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"newsdedup serve exited early ({proc.returncode}) while waiting for {what}")
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _stop_local_prefect(home: Path, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "newsdedup.cli", "db", "stop"], env=env, cwd=str(ROOT),
                   capture_output=True, timeout=60)


def test_cron_deployment_creates_and_completes_runs_by_itself(mongo_uri, tmp_path):
    home = tmp_path / "home"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(f, inbox / f.name)
    db_name = f"sched_{uuid.uuid4().hex[:8]}"
    name = f"cron-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "NEWSDEDUP_HOME": str(home), "MONGODB_URI": mongo_uri, "HOME": str(tmp_path),
        # Prefect's own settings: the scheduler looks for due runs every second, the runner polls every second
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "1",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        # what `newsdedup run` sets for its own console: the server must not inherit it
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    })
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "serve", str(inbox), "--cron", "* * * * *",
                             "--db", db_name, "--name", name], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=10_000)
    try:
        # ---- serve prints a trigger command that names the API of the local server
        lines: list[str] = []
        trigger = None
        deadline = time.monotonic() + 180
        while trigger is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"serve ended before printing its trigger command:\n{proc.stderr.read()}")
            lines.append(line)
            if "prefect deployment run" in line:
                trigger = line.strip()
        assert trigger, lines
        api = re.search(r"PREFECT_API_URL=(\S+)", trigger)[1]
        state = json.loads((home / "prefect" / "server.json").read_text())
        assert api == state["api_url"]
        # the local server logs its errors: its console level is WARNING, not the CRITICAL it was started under
        server_env = dict(kv.split("=", 1) for kv in
                          Path(f"/proc/{state['pid']}/environ").read_bytes().decode().split("\0") if "=" in kv)
        assert server_env["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "WARNING"

        dep = _api(api, "GET", f"/deployments/name/ingest/{name}")
        assert [s["schedule"].get("cron") for s in dep["schedules"]] == ["* * * * *"]

        # ---- nobody triggers anything: the schedule creates a run and the served process completes it
        def completed_scheduled():
            done = [r for r in _runs_of(api, dep["id"]) if r["auto_scheduled"] and r["state_type"] == "COMPLETED"]
            return done[0] if done else None

        try:
            fr = _wait(completed_scheduled, 200, "a scheduled run to complete", proc, poll=2)
        except AssertionError as e:  # say what the runs did, and what serve printed
            states = [(r["name"], r["auto_scheduled"], r["state_type"], (r.get("state") or {}).get("message"))
                      for r in _runs_of(api, dep["id"])]
            proc.terminate()
            raise AssertionError(f"{e}\nruns: {states}\nserve stderr:\n{proc.stderr.read()[-4000:]}") from None
        run = _wait(lambda: client[db_name].runs.find_one({"flow_run_id": fr["id"]}), 30, "its runs record")
        assert run["status"] == "completed" and run["deployment_id"] == dep["id"]
        assert run["counts"]["documents"] == 2
        assert client[db_name].documents.count_documents({}) == 2
        assert client[db_name].passages.count_documents({}) > 0
        log = (home / "prefect" / "server.log").read_text(errors="replace")
        assert "Can't evaluate bulk DML" not in log and "InvalidRequestError" not in log

        # ---- the printed trigger command works in a new shell that knows nothing of this one
        shell_env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path),
                     "LANG": "C.UTF-8"}
        before = {r["id"] for r in _runs_of(api, dep["id"])}
        out = subprocess.run(["bash", "-c", trigger], env=shell_env, cwd="/", capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "not found" not in out.stdout + out.stderr

        def triggered_done():
            new = [r for r in _runs_of(api, dep["id"]) if r["id"] not in before and not r["auto_scheduled"]]
            return new[0] if new and new[0]["state_type"] == "COMPLETED" else None

        fr2 = _wait(triggered_done, 180, "the triggered run to complete", proc, poll=2)
        run2 = _wait(lambda: client[db_name].runs.find_one({"flow_run_id": fr2["id"]}), 30, "its runs record")
        assert run2["status"] == "completed" and run2["counts"]["documents"] == 0  # nothing new in the inbox

        # ---- Ctrl-C: exit 130, schedule paused
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        assert proc.returncode == 130, proc.stderr.read()
        dep = _api(api, "GET", f"/deployments/{dep['id']}")
        assert dep["paused"] or not any(s["active"] for s in dep["schedules"])
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        _stop_local_prefect(home, env)
