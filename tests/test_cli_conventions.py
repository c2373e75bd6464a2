"""CLI conventions of issue #15 (points 6, 7, 9), through the real console script and real servers.

Help for every option and argument; exit codes 1 (not found / failed), 2 (usage), 3 (database
unreachable), 130 (Ctrl-C); an unreachable MONGODB_URI fails within 15 s with one line naming its
host; advice that fits the situation; ``db uri``/``db status`` ask the server; ``-o`` and filters on
queries; ``export --format csv``; the default home ``~/.newsdedup`` shared by every folder; no
Prefect usage-data notice on a terminal.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pty
import select
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, cli, read_jsonl
from newsdedup.cli import build_parser

pytestmark = pytest.mark.slow


def _walk(parser: argparse.ArgumentParser, path: str = "newsdedup"):
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_option_and_argument_has_help():
    missing = [f"{path} {action.option_strings or action.dest}" for path, action in _walk(build_parser())
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []
    out = cli("query", "clusters", "--help").stdout
    for opt in ("--min-outlets N", "--limit N", "--since DATE", "--until DATE", "--outlet NAME", "-o FILE", "--json"):
        assert opt in out
    assert "exit codes" in cli("--help").stdout
    serve = cli("serve", "--help").stdout
    assert "--map FIELD=SOURCE" in serve and "rename JSON record fields" in serve


@pytest.fixture()
def blackhole():
    """A port on 127.0.0.1 that accepts TCP connections and never answers (a hung or firewalled server)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


@pytest.mark.parametrize("args", [
    ("run", "{inbox}"),
    ("query", "clusters"),
    ("query", "search", "نص"),
    ("export", "documents"),
    ("db", "uri"),
    ("db", "status"),
])
def test_unreachable_database_fails_fast_with_one_line_naming_the_host(blackhole, tmp_path, args):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.txt").write_text("نص قصير", encoding="utf-8")
    args = [a.format(inbox=inbox) for a in args]
    t0 = time.monotonic()
    proc = cli(*args, env={"MONGODB_URI": f"mongodb://user:secret@127.0.0.1:{blackhole}/?authSource=admin",
                           "NEWSDEDUP_HOME": str(tmp_path / "home")}, check=False, timeout=120)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 3, proc.stderr
    assert elapsed < 15, elapsed
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert f"127.0.0.1:{blackhole}" in err[0] and "secret" not in proc.stderr
    assert "TopologyDescription" not in proc.stderr and "Traceback" not in proc.stderr
    if args[:2] != ["db", "status"]:
        assert proc.stdout.strip() == ""
    else:
        assert json.loads(proc.stdout)["answers"] is False


def test_unwritable_home_advice_fits_the_situation(mongo_uri, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    home = blocker / "home"  # cannot be created, even by root
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.txt").write_text("نص قصير", encoding="utf-8")
    # with MONGODB_URI set, setting MONGODB_URI is no remedy
    proc = cli("run", str(inbox), env={"MONGODB_URI": mongo_uri, "NEWSDEDUP_HOME": str(home)}, check=False)
    assert proc.returncode == 1
    assert str(home) in proc.stderr and "MONGODB_URI" not in proc.stderr
    assert "set NEWSDEDUP_HOME to a writable folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # queries need no state folder when the database is elsewhere
    assert cli("query", "clusters", env={"MONGODB_URI": mongo_uri, "NEWSDEDUP_HOME": str(home)}).returncode == 0
    assert cli("query", "search", "نص قصير", env={"MONGODB_URI": mongo_uri, "NEWSDEDUP_HOME": str(home)}).returncode == 0
    # embedded: the other MongoDB is a remedy, and it is offered
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", "query", "clusters"], capture_output=True, text=True,
                          env={**env, "NEWSDEDUP_HOME": str(home)}, cwd=str(ROOT), timeout=60)
    assert proc.returncode == 1 and "or set MONGODB_URI" in proc.stderr


def test_db_uri_and_status_ask_the_server(tmp_path):
    home = tmp_path / "home"
    env = {"NEWSDEDUP_HOME": str(home), "MONGODB_URI": ""}
    stopped = cli("db", "status", env=env, check=False)
    assert stopped.returncode == 3 and json.loads(stopped.stdout)["answers"] is False
    uri = cli("db", "uri", env=env).stdout.strip()  # starts the embedded server, then checks it answers
    assert uri.startswith("mongodb://127.0.0.1:")
    st = cli("db", "status", env=env)
    got = json.loads(st.stdout)
    assert st.returncode == 0 and got["answers"] is True and got["version"]
    assert got["server"]["uri"] in uri
    cli("db", "stop", env=env)
    after = cli("db", "status", env=env, check=False)
    assert after.returncode == 3


def test_exit_codes_usage_not_found(seeds_run, tmp_path):
    db = seeds_run["db"]
    assert cli("query", "doc", "no-such-doc", "--db", db, check=False).returncode == 1
    assert cli("query", "clusters", "--bogus", check=False).returncode == 2
    assert cli("export", "nothing", check=False).returncode == 2
    bad_map = cli("run", str(tmp_path), "--map", "txt=content", "--db", db, check=False)
    assert bad_map.returncode == 2 and "unknown field" in bad_map.stderr
    missing = cli("run", str(tmp_path), "--manifest", str(tmp_path / "nope.csv"), "--db", db, check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_date = cli("query", "clusters", "--since", "someday", "--db", db, check=False)
    assert bad_date.returncode == 2 and "--since" in bad_date.stderr


def test_query_output_file_filters_and_csv_export(seeds_run, tmp_path):
    db = seeds_run["db"]
    out = tmp_path / "clusters.jsonl"
    proc = cli("query", "clusters", "--min-outlets", "2", "--json", "-o", str(out), "--db", db)
    assert proc.stdout == ""
    rows = read_jsonl(out.read_text(encoding="utf-8"))
    assert rows and all(r["n_outlets"] >= 2 for r in rows)
    # --outlet / --since / --until: a member of that outlet published in that range
    q = ["query", "clusters", "--min-outlets", "2", "--json", "--db", db]
    assert read_jsonl(cli(*q, "--outlet", "العربي الجديد").stdout) == rows
    assert read_jsonl(cli(*q, "--outlet", "no such outlet").stdout) == []
    assert read_jsonl(cli(*q, "--since", "2016-11-30", "--until", "2016-11-30").stdout) == rows
    assert read_jsonl(cli(*q, "--since", "2016-12-01").stdout) == []
    assert read_jsonl(cli(*q, "--until", "2016-11-29").stdout) == []
    s = ["query", "search", "على مسافة 700 كم من أوروبا", "--json", "--db", db]
    assert read_jsonl(cli(*s, "--outlet", "العربي الجديد").stdout)[0]["kind"] == "cluster"
    assert read_jsonl(cli(*s, "--since", "2017-01-01").stdout) == []
    text_out = tmp_path / "doc.txt"
    cli("query", "doc", "000_0fc2040b98299895", "-o", str(text_out), "--db", db)
    assert "000_0fc2040b98299895" in text_out.read_text(encoding="utf-8")
    assert cli("query", "doc", "000_0fc2040b98299895", "--outlet", "عربي21", "--db", db, check=False).returncode == 1

    for kind, fields in (("documents", None), ("clusters", None)):
        csv_text = cli("export", kind, "--format", "csv", "--db", db).stdout
        jsonl = read_jsonl(cli("export", kind, "--db", db).stdout)
        table = list(csv.DictReader(io.StringIO(csv_text)))
        assert len(table) == len(jsonl) > 0
        assert list(table[0]) == list(jsonl[0])
        for row, obj in zip(table, jsonl):
            for k, v in obj.items():
                if isinstance(v, (list, dict)):
                    assert json.loads(row[k]) == v
                elif v is None:
                    assert row[k] == ""
                elif isinstance(v, str):
                    assert row[k] == v  # texts with newlines and quotes survive


def test_default_home_is_shared_by_every_folder(tmp_path):
    """No NEWSDEDUP_HOME: ~/.newsdedup, the same database whatever the working directory."""
    user_home = tmp_path / "user"
    user_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSDEDUP_HOME", "MONGODB_URI")}
    env["HOME"] = str(user_home)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()

    def run(cwd, *args):
        return subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], capture_output=True, text=True,
                              env=env, cwd=str(cwd), timeout=300)

    try:
        assert run(a, "run", str(ROOT / "seeds"), "--manifest", str(ROOT / "seeds" / "manifest.csv"),
                   "--quiet").returncode == 0
        got = run(b, "query", "clusters", "--min-outlets", "2", "--json")
        assert got.returncode == 0 and read_jsonl(got.stdout), got.stderr
        status = json.loads(run(b, "db", "status").stdout)
        assert status["home"] == str(user_home / ".newsdedup")
        assert (user_home / ".newsdedup" / "db").is_dir()
        assert not (a / ".newsdedup").exists() and not (b / ".newsdedup").exists()
    finally:
        run(a, "db", "stop")


def _in_terminal(args: list[str], env: dict, timeout: float = 300) -> tuple[int, str]:
    """Run the console script with stdin/stdout/stderr on a pseudo-terminal; (exit code, all output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=str(ROOT), close_fds=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    proc.wait(30)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_progress_is_shown_and_no_usage_data_notice(prefect_api, mongo_uri, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DO_NOT_TRACK")}  # Prefect stays quiet in CI
    env.update({"HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect-home"), "MONGODB_URI": mongo_uri,
                "NEWSDEDUP_HOME": str(tmp_path / "home"), "PREFECT_API_URL": prefect_api, "COLUMNS": "160"})
    code, out = _in_terminal(["run", "--db", f"tty_{os.getpid()}"], env)
    assert code == 0, out
    assert "usage data" not in out and "telemetry" not in out
    for label in ("scan inputs", "analyze and store documents", "find and align reuse", "write passages"):
        assert label in out, out[-3000:]
    assert "5/5" in out  # counts with their totals
    assert "eta" in out
    quiet_code, quiet = _in_terminal(["run", "--db", f"tty_{os.getpid()}", "--quiet"], env)
    assert quiet_code == 0 and "scan inputs" not in quiet and "run " in quiet


def test_the_prefect_ui_keeps_its_port_across_db_stop(tmp_path):
    from newsdedup.prefect_server import ensure_prefect_server, prefect_server_status

    home = tmp_path / "home"
    env = {"NEWSDEDUP_HOME": str(home), "MONGODB_URI": ""}
    try:
        first = ensure_prefect_server(home, quiet=True)
        assert prefect_server_status(home)
        stop = cli("db", "stop", env=env)
        assert "local Prefect server stopped" in stop.stderr and prefect_server_status(home) is None
        again = ensure_prefect_server(home, quiet=True)
        assert again == first  # same port: a bookmarked UI address still works
    finally:
        cli("db", "stop", env=env, check=False)


def test_a_slow_prefect_server_start_names_the_wait_setting(tmp_path, monkeypatch):
    """A local Prefect server still starting when the wait ends (a busy machine: over 90 s at load 20)
    is not "did not start": the error names the setting that waits longer, and nothing is left running."""
    from newsdedup.prefect_server import PrefectServerError, ensure_prefect_server, prefect_server_status, start_timeout

    monkeypatch.setenv("NEWSDEDUP_PREFECT_START_TIMEOUT", "0.2")
    assert start_timeout() == 0.2
    home = tmp_path / "home"
    with pytest.raises(PrefectServerError) as err:
        ensure_prefect_server(home, quiet=True)
    assert "did not answer within 0.2 s" in str(err.value) and "NEWSDEDUP_PREFECT_START_TIMEOUT" in str(err.value)
    assert prefect_server_status(home) is None
    monkeypatch.setenv("NEWSDEDUP_PREFECT_START_TIMEOUT", "not a number")
    assert start_timeout() == 180.0
