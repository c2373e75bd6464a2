"""The real mongosh client against the embedded SecantusDB server.

mongosh is found via $MONGOSH, `mongosh` on PATH, or node_modules/.bin/mongosh under
the repo or /tmp (`cd /tmp && npm install mongosh`); the tests skip without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient

from newsdedup.embedded import ensure_server, stop_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def find_mongosh() -> str | None:
    env = os.environ.get("MONGOSH")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    on_path = shutil.which("mongosh")
    if on_path:
        return on_path
    for base in (REPO, Path("/tmp")):
        candidate = base / "node_modules" / ".bin" / "mongosh"
        if candidate.is_file() and shutil.which("node"):
            return str(candidate)
    return None


MONGOSH = find_mongosh()
needs_mongosh = pytest.mark.skipif(
    MONGOSH is None,
    reason="mongosh not found: set MONGOSH=/path/to/mongosh, put mongosh on PATH, "
    "or run `cd /tmp && npm install mongosh`",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("mongosh-home")
    uri = ensure_server(home)
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        docs = client.newsdedup.documents
        docs.insert_many(
            [
                {"doc_id": "d1", "outlet": "alriyadh", "text": "قال مصدر مطلع إن الاجتماع تأجل"},
                {"doc_id": "d2", "outlet": "okaz", "text": "second"},
                {"doc_id": "d3", "outlet": "okaz", "text": "third"},
            ]
        )
    yield uri
    stop_server(home)


def mongosh(uri: str, script: str, tmp_path: Path, *extra: str) -> str:
    assert MONGOSH is not None
    env = dict(os.environ, HOME=str(tmp_path))  # mongosh writes logs/config under ~/.mongodb
    proc = subprocess.run(
        [MONGOSH, uri, "--quiet", "--norc", *extra, "--eval", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"mongosh failed ({proc.returncode}): {proc.stderr or proc.stdout}"
    return proc.stdout.strip()


@needs_mongosh
def test_count_documents(server: str, tmp_path: Path) -> None:
    out = mongosh(server + "newsdedup", "db.documents.countDocuments()", tmp_path)
    assert out == "3"


@needs_mongosh
def test_arabic_text_and_aggregation(server: str, tmp_path: Path) -> None:
    out = mongosh(
        server + "newsdedup",
        "EJSON.stringify(db.documents.find({doc_id: 'd1'}, {_id: 0, text: 1}).toArray())",
        tmp_path,
    )
    assert json.loads(out) == [{"text": "قال مصدر مطلع إن الاجتماع تأجل"}]
    out = mongosh(
        server + "newsdedup",
        "db.documents.aggregate([{$group: {_id: '$outlet', n: {$sum: 1}}}, {$sort: {_id: 1}}])"
        ".toArray()",
        tmp_path,
        "--json=relaxed",
    )
    assert json.loads(out) == [{"_id": "alriyadh", "n": 1}, {"_id": "okaz", "n": 2}]


@needs_mongosh
def test_shell_helpers(server: str, tmp_path: Path) -> None:
    assert "documents" in mongosh(server + "newsdedup", "show collections", tmp_path).split()
    assert mongosh(server, "db.adminCommand({ping: 1}).ok", tmp_path) == "1"


@needs_mongosh
def test_no_startup_warnings_in_the_interactive_shell(server: str, tmp_path: Path) -> None:
    """mongosh asks for getLog startupWarnings on connect; SecantusDB answered with its whole log (a line per
    connection) as plain text, which mongosh printed as hundreds of 'Unexpected log line format' lines."""
    for _ in range(30):  # connections leave "connection accepted" lines in the server's in-memory log
        with MongoClient(server, serverSelectionTimeoutMS=5000) as c:
            c.admin.command("ping")
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.run([MONGOSH, server, "--norc"], input="db.documents.countDocuments()\n", capture_output=True,
                          text=True, timeout=120, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "3" in proc.stdout
    assert "Unexpected log line format" not in out
    assert "startup warnings" not in out
    # the global log is still there, as mongod's structured JSON lines
    lines = json.loads(mongosh(server, 'JSON.stringify(db.adminCommand({getLog: "global"}).log)', tmp_path))
    assert lines and all(json.loads(x)["msg"] for x in lines)
    names = json.loads(mongosh(server, 'JSON.stringify(db.adminCommand({getLog: "*"}).names)', tmp_path))
    assert "startupWarnings" in names
