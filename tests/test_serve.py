"""Scheduling and monitoring: ``newsdedup serve`` as a real Prefect deployment (test harness API).

The serve process is the real console script; runs are triggered through the Prefect API and executed by
the served process; what they did is read back from MongoDB (``runs``, ``documents``) and from the Prefect
API (flow runs, task runs, artifacts).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pymongo
import pytest

from conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow

CRON = "*/15 * * * *"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def _wait_for_deployment(client, name: str, proc: subprocess.Popen, timeout: float = 120):
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"newsdedup serve exited early ({proc.returncode}):\n{proc.stderr.read()}")
        try:
            return client.read_deployment_by_name(name)
        except ObjectNotFound:
            time.sleep(0.5)
    raise AssertionError(f"deployment {name} did not appear within {timeout}s")


def _trigger(deployment_id, timeout: float = 240):
    """Start a run of the deployment now and wait until the served process has finished it."""
    from prefect.deployments import run_deployment

    fr = run_deployment(deployment_id, timeout=timeout, poll_interval=1, as_subflow=False)
    assert fr.state is not None and fr.state.is_completed(), f"flow run {fr.id} ended {fr.state}"
    return fr


def _run_record(db, flow_run_id) -> dict:
    run = db.runs.find_one({"flow_run_id": str(flow_run_id)})
    assert run is not None, f"no runs record for flow run {flow_run_id}"
    assert run["status"] == "completed"
    return run


@pytest.fixture()
def served(prefect_api, mongo_uri, db_name, tmp_path):
    """``newsdedup serve INBOX --cron`` running against the test API, stopped (SIGTERM) at the end."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in SEED_FILES[:4]:
        shutil.copy(f, inbox / f.name)
    manifest = tmp_path / "manifest.csv"
    shutil.copy(SEEDS / "manifest.csv", manifest)
    name = f"ops-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PREFECT_API_URL=prefect_api, PREFECT_RUNNER_POLL_FREQUENCY="1")
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "serve", str(inbox), "--cron", CRON,
                             "--manifest", str(manifest), "--db", db_name, "--name", name],
                            cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=10_000, tz_aware=True)
    try:
        yield {"proc": proc, "inbox": inbox, "manifest": manifest, "name": f"ingest/{name}", "db": client[db_name]}
    finally:
        client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)


def test_serve_deployment_runs_only_what_is_new(served):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, \
        FlowRunFilterId

    db, inbox = served["db"], served["inbox"]
    with get_client(sync_client=True) as client:
        dep = _wait_for_deployment(client, served["name"], served["proc"])
        # ---- the deployment: cron schedule and parameters holding the (absolute) paths
        crons = [s.schedule.cron for s in dep.schedules if getattr(s.schedule, "cron", None)]
        assert crons == [CRON]
        assert all(s.active for s in dep.schedules)
        assert dep.parameters["paths"] == [str(inbox.resolve())]
        assert dep.parameters["manifest"] == str(served["manifest"].resolve())
        assert dep.parameters["db"] == db.name
        assert "newsdedup" in (dep.tags or [])

        # ---- first run: everything in the inbox is ingested by the served process
        fr1 = _trigger(dep.id)
        run1 = _run_record(db, fr1.id)
        assert run1["deployment_id"] == str(dep.id)
        assert run1["counts"]["documents"] == 4
        assert db.documents.count_documents({}) == 4
        assert len(db.passages.distinct("doc_id")) == 4  # every document has its passages
        assert db.documents.count_documents({"outlet": None}) == 0  # the manifest was applied
        n_passages = db.passages.count_documents({})
        assert n_passages > 0

        # artifacts of that flow run: counts table and top claims markdown
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[fr1.id])))
        by_key = {a.key: a for a in arts}
        assert by_key["ingest-counts"].type == "table"
        assert "documents" in str(by_key["ingest-counts"].data)
        assert by_key["top-claims"].type == "markdown"
        claims = str(by_key["top-claims"].data)
        assert "Top reused claims" in claims
        # what this run added comes first: the DEBKA claim is new in this run
        assert claims.index("What this run added or spread") < claims.index("Top reused claims")
        assert "new claim" in claims.split("Top reused claims")[0] and "ديبكا" in claims.split("Top reused claims")[0]
        # the progress artifact was kept up to date during the run and ends at 100 %
        assert by_key["ingest-progress"].type == "progress"
        assert float(by_key["ingest-progress"].data) == 100.0

        # task runs are named after what they process
        want = {"outlet-statistics-4-files", "analyze-docs-1-4", "store-documents-docs-1-4", "store-passages-docs-1-4"}
        deadline = time.monotonic() + 30  # task-run states reach the API asynchronously (slow on a loaded machine)
        while True:
            task_names = {t.name for t in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr1.id])))}
            if want <= task_names or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert "outlet-statistics-4-files" in task_names
        assert {"analyze-docs-1-4", "store-documents-docs-1-4", "store-passages-docs-1-4"} <= task_names
        assert any(n.startswith("align-b1-pairs-") for n in task_names), task_names

        # ---- second run, nothing new: completes quickly, adds nothing, reads no file again
        fr2 = _trigger(dep.id)
        run2 = _run_record(db, fr2.id)
        arts2 = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[fr2.id])))}
        assert "This run added no passage shared between outlets" in str(arts2["top-claims"].data)
        assert run2["counts"]["documents"] == 0 and run2["counts"]["input_files_read"] == 0
        assert run2["counts"]["input_files_skipped"] == 4
        fr2 = client.read_flow_run(fr2.id)
        assert fr2.total_run_time.total_seconds() < 30, fr2.total_run_time
        assert db.documents.count_documents({}) == 4 and db.passages.count_documents({}) == n_passages

        # ---- a new file in the inbox: only that one is read and ingested
        new = SEED_FILES[4]
        shutil.copy(new, inbox / new.name)
        fr3 = _trigger(dep.id)
        run3 = _run_record(db, fr3.id)
        assert run3["counts"]["input_files_read"] == 1 and run3["counts"]["input_files_skipped"] == 4
        assert run3["counts"]["documents"] == 1 and run3["counts"]["documents_read"] == 1
        assert [i["path"].rsplit("/", 1)[-1] for i in run3["input_files"]] == [new.name]
        assert db.documents.count_documents({}) == 5
        assert db.documents.find_one({"external_id": new.stem})["run_id"] == run3["run_id"]
        assert len(db.passages.distinct("doc_id")) == 5
        # manifest rows of files ingested earlier are not reported as rejects again
        assert db.rejects.count_documents({"run_id": run3["run_id"]}) == 0

    # ---- the serve process stops cleanly on SIGTERM
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert proc.returncode is not None
