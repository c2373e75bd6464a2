"""The embedded SecantusDB server, against the real server process (no mocks)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymongo import MongoClient, WriteConcern

from newsdedup import embedded, processes
from newsdedup.embedded import EmbeddedServerError, ensure_server, server_status, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path):
    h = tmp_path / "home"
    yield h
    stop_server(h)
    # Nothing may survive the test on this storage, whatever the test did.
    for pid, _port in embedded.find_servers((h / "db").resolve()):
        os.kill(pid, signal.SIGKILL)


def _client(uri: str) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=5000)


def _port(uri: str) -> int:
    return int(uri.rstrip("/").rsplit(":", 1)[1])


def _state(home: Path) -> dict:
    return json.loads((home / "server.json").read_text())


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _alive(pid: int) -> bool:
    return processes.pid_alive(pid)


def test_start_writes_state_and_answers(home: Path) -> None:
    assert server_status(home) is None
    t0 = time.monotonic()
    uri = ensure_server(home)
    elapsed = time.monotonic() - t0
    assert uri.startswith("mongodb://127.0.0.1:") and uri.endswith("/")
    state = _state(home)
    assert {"pid", "port", "started_at", "version"} <= set(state)
    assert state["port"] == _port(uri)
    assert state["version"]
    assert (home / "db").is_dir() and any((home / "db").iterdir())
    assert "listening on 127.0.0.1" in (home / "server.log").read_text()
    with _client(uri) as c:
        assert c.admin.command("ping")["ok"] == 1.0
    status = server_status(home)
    assert status is not None and status["pid"] == state["pid"] and status["uri"] == uri
    # Documented start time: well under a few seconds on this machine (~0.5 s).
    print(f"embedded server start: {elapsed:.2f}s (server-side {state['start_seconds']}s)")
    assert elapsed < 15


def test_topology_standalone_by_default_replica_set_on_request(home: Path, monkeypatch) -> None:
    """Standalone (no oplog written) unless NEWSDEDUP_EMBEDDED_REPLICA_SET asks for change streams."""
    monkeypatch.delenv("NEWSDEDUP_EMBEDDED_REPLICA_SET", raising=False)
    uri = ensure_server(home)
    assert _state(home)["topology"] == "standalone" and server_status(home)["topology"] == "standalone"
    with _client(uri) as c:
        assert "setName" not in c.admin.command("hello")
        c.t.x.insert_one({"_id": 1})
        assert c.t.x.find_one({"_id": 1}) == {"_id": 1}
    stop_server(home)
    monkeypatch.setenv("NEWSDEDUP_EMBEDDED_REPLICA_SET", "1")
    uri = ensure_server(home)
    assert _state(home)["topology"] == "replica set"
    with _client(uri) as c:
        assert c.admin.command("hello").get("setName")
        assert c.t.x.find_one({"_id": 1}) == {"_id": 1}  # same storage either way
        with c.t.x.watch() as stream:
            c.t.x.insert_one({"_id": 2})
            change = stream.try_next()
            for _ in range(50):
                if change is not None:
                    break
                change = stream.try_next()
            assert change is not None and change["operationType"] == "insert" and change["documentKey"] == {"_id": 2}


def test_reuse_same_port_and_pid(home: Path) -> None:
    uri = ensure_server(home)
    pid = _state(home)["pid"]
    t0 = time.monotonic()
    assert ensure_server(home) == uri
    assert time.monotonic() - t0 < 2.0  # reuse is fast: no new process
    assert _state(home)["pid"] == pid
    assert (home / "server.log").read_text().count("newsdedup: starting SecantusDB") == 1


def test_stale_state_file_dead_pid_starts_fresh(home: Path) -> None:
    home.mkdir(parents=True)
    dead = _dead_pid()
    (home / "server.json").write_text(json.dumps({"pid": dead, "port": 1, "version": "x"}))
    uri = ensure_server(home)
    state = _state(home)
    assert state["pid"] != dead and _alive(state["pid"])
    with _client(uri) as c:
        assert c.admin.command("ping")["ok"] == 1.0


def test_stale_state_file_reused_pid_is_not_killed(home: Path) -> None:
    """A state file whose pid now belongs to an unrelated process: start fresh, kill nothing."""
    home.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (home / "server.json").write_text(json.dumps({"pid": other.pid, "port": 1}))
        ensure_server(home)
        assert _state(home)["pid"] != other.pid
        assert stop_server(home) is True
        assert other.poll() is None  # the unrelated process is untouched
    finally:
        other.kill()
        other.wait()


def test_corrupt_state_file_starts_fresh(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "server.json").write_text("{not json")
    uri = ensure_server(home)
    assert _state(home)["port"] == _port(uri)


def test_lost_state_file_adopts_running_server(home: Path) -> None:
    uri = ensure_server(home)
    pid = _state(home)["pid"]
    (home / "server.json").unlink()
    assert ensure_server(home) == uri  # not a second server fighting over home/db
    assert _state(home)["pid"] == pid


_CHILD = """
import sys, time, os
from pathlib import Path
from newsdedup.embedded import ensure_server
home, at = Path(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
uri = ensure_server(home)
print(uri, os.getpid(), flush=True)
"""


def test_concurrent_ensure_from_two_processes_gives_one_server(home: Path) -> None:
    at = time.time() + 2.0  # both children call ensure_server at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(home), str(at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    uris = {out.split()[0] for out, _err in outs}
    assert len(uris) == 1
    servers = embedded.find_servers((home / "db").resolve())
    assert len(servers) == 1
    assert servers[0][0] == _state(home)["pid"]
    assert (home / "server.log").read_text().count("newsdedup: starting SecantusDB") == 1


def test_server_survives_the_process_that_started_it(home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(home), "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    uri = out.split()[0]
    pid = _state(home)["pid"]
    assert _alive(pid)
    assert os.getsid(pid) == pid  # own session: the terminal's Ctrl+C does not reach it
    assert ensure_server(home) == uri
    assert _state(home)["pid"] == pid


def test_data_persists_across_stop_and_start(home: Path) -> None:
    uri = ensure_server(home)
    with _client(uri) as c:
        c.newsdedup.documents.insert_many([{"doc_id": str(i), "text": "نص"} for i in range(50)])
        c.newsdedup.documents.create_index("doc_id", unique=True)
    assert stop_server(home) is True
    uri2 = ensure_server(home)
    with _client(uri2) as c:
        assert c.newsdedup.documents.count_documents({}) == 50
        assert c.newsdedup.documents.find_one({"doc_id": "7"})["text"] == "نص"
        names = {ix["name"] for ix in c.newsdedup.documents.list_indexes()}
        assert "doc_id_1" in names


def test_journaled_data_survives_a_killed_server(home: Path) -> None:
    """A SIGKILLed server recovers from its WiredTiger journal on the next start.

    Like mongod with j:false, SecantusDB flushes its journal in the background, so
    unjournaled writes from the last ~0.1-0.3 s before a hard kill can be lost
    (measured); writes with writeConcern j:true are durable. A clean stop loses nothing.
    """
    uri = ensure_server(home)
    with _client(uri) as c:
        runs = c.newsdedup.get_collection("runs", write_concern=WriteConcern(j=True))
        runs.insert_one({"run_id": "r1", "status": "completed"})
    pid = _state(home)["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    uri2 = ensure_server(home)  # the state file is stale now
    assert _state(home)["pid"] != pid
    with _client(uri2) as c:
        assert c.newsdedup.runs.find_one({"run_id": "r1"})["status"] == "completed"


def test_port_is_kept_across_restarts(home: Path) -> None:
    uri = ensure_server(home)
    stop_server(home)
    assert ensure_server(home) == uri  # saved client connection strings keep working


def _listeners(port: int) -> list[tuple[str, str]]:
    """(file, local address hex) of LISTEN sockets on *port* from /proc/net/tcp{,6}."""
    found = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, st = fields[1], fields[3]
            addr, hexport = local.rsplit(":", 1)
            if st == "0A" and int(hexport, 16) == port:
                found.append((name, addr))
    return found


def _non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # UDP connect sends nothing; picks the outward address
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_binds_loopback_only(home: Path) -> None:
    port = _port(ensure_server(home))
    if not Path("/proc/net/tcp").exists():  # pragma: no cover
        pytest.skip("no /proc/net/tcp to inspect listening sockets")
    assert _listeners(port) == [("tcp", "0100007F")]  # 127.0.0.1 only, no IPv6/wildcard
    addr = _non_loopback_ipv4()
    if addr is not None:
        with pytest.raises(OSError):
            socket.create_connection((addr, port), timeout=2).close()


def test_stop_is_clean(home: Path) -> None:
    assert stop_server(home) is False  # nothing ever ran
    assert not home.exists()  # and stopping nothing does not create the home
    ensure_server(home)
    pid = _state(home)["pid"]
    child = processes.child(pid)
    t0 = time.monotonic()
    assert stop_server(home) is True
    assert time.monotonic() - t0 < 5.0  # SIGTERM was enough, no SIGKILL timeout
    assert child.returncode == 0  # SecantusDB's SIGTERM handler exits 0 after closing storage
    assert not _alive(pid)
    assert not (home / "server.json").exists()
    assert server_status(home) is None
    log = (home / "server.log").read_text()
    assert "Traceback" not in log
    assert stop_server(home) is False


def test_stop_with_connected_clients_is_quick(home: Path) -> None:
    uri = ensure_server(home)
    # Short selection timeout: closing a client whose server is gone waits for it
    # (pymongo tries endSessions), ~5 s per client with the default used elsewhere.
    clients = [MongoClient(uri, serverSelectionTimeoutMS=300) for _ in range(3)]
    try:
        for c in clients:
            c.newsdedup.runs.insert_one({"n": 1})
        t0 = time.monotonic()
        assert stop_server(home) is True
        assert time.monotonic() - t0 < 5.0
    finally:
        for c in clients:
            c.close()
    with _client(ensure_server(home)) as c:
        assert c.newsdedup.runs.count_documents({}) == 3


def test_start_failure_is_one_line_with_log_tail(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "secantusd.toml").write_text("[server\nbroken")  # SecantusDB refuses to start
    with pytest.raises(EmbeddedServerError) as err:
        ensure_server(home, timeout=20)
    msg = str(err.value)
    assert "\n" not in msg
    assert "invalid TOML" in msg
    assert str(home / "server.log") in msg
    assert not (home / "server.json").exists()


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EmbeddedServerError, match="NEWSDEDUP_HOME"):
        ensure_server(blocker / "home")
