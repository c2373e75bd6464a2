"""Shared fixtures: one real embedded database server and one Prefect test API per session.

No mocks: tests talk to SecantusDB over the wire and run the real Prefect flow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"


def _shared_or_skip(rel: str) -> Path:
    p = SHARED / rel
    if not p.exists():
        pytest.skip(f"{p} is not present (../shared is provided next to the repo in CI)")
    return p


@pytest.fixture(scope="session")
def shared():
    return _shared_or_skip


@pytest.fixture(scope="session")
def newsdedup_home(tmp_path_factory):
    """A private NEWSDEDUP_HOME with its own embedded server, stopped at the end of the session."""
    home = tmp_path_factory.mktemp("newsdedup-home")
    old = {k: os.environ.get(k) for k in ("NEWSDEDUP_HOME", "MONGODB_URI")}
    os.environ["NEWSDEDUP_HOME"] = str(home)
    os.environ.pop("MONGODB_URI", None)
    yield home
    from newsdedup.embedded import stop_server

    stop_server(home)
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def prefect_api(newsdedup_home):
    """Prefect's test harness (a temporary API server with its own database), once per session."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        os.environ["PREFECT_API_URL"] = url
        yield url
    os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="session")
def mongo_uri(newsdedup_home):
    from newsdedup.embedded import ensure_server

    return ensure_server(newsdedup_home)


@pytest.fixture()
def db_name():
    return f"t_{uuid.uuid4().hex[:10]}"


def cli(*args: str, env: dict | None = None, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess (same interpreter)."""
    e = dict(os.environ)
    e.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=str(ROOT))
    if check and proc.returncode != 0:
        raise AssertionError(f"newsdedup {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def read_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seeds_run(prefect_api, newsdedup_home, tmp_path_factory):
    """The flow run once over the bundled seeds, with exports written to a folder."""
    from newsdedup.flows.ingest import ingest

    db = f"seeds_{uuid.uuid4().hex[:8]}"
    summary = ingest(db=db)
    out = tmp_path_factory.mktemp("seeds-export")
    for kind in ("documents", "passages", "matches", "clusters", "derivations", "rejects"):
        proc = cli("export", kind, "--db", db, "-o", str(out / f"{kind}.jsonl"))
        assert proc.returncode == 0
    return {"db": db, "summary": summary, "out": out}
