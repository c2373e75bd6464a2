"""``newsdedup`` command line: run, export, query, db, serve (see CONTRACT.md).

Every command takes ``--db NAME``; errors end with a one-line reason on stderr
and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import load_settings

EXPORT_KINDS = ("documents", "passages", "matches", "clusters", "rejects")


class CliError(Exception):
    """An error to report as one line on stderr."""


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, default=str)


# ---------------------------------------------------------------------------- prefect
def _ensure_prefect_api(settings) -> None:
    """Point Prefect at a long-lived local server unless the user configured one.

    Without PREFECT_API_URL every process would start a temporary API server
    (~14 s each) and the runs would vanish from the UI; a local server under
    NEWSDEDUP_HOME starts once, keeps the history and serves the UI.
    ``NEWSDEDUP_PREFECT=ephemeral`` keeps Prefect's own temporary server.
    """
    if os.environ.get("PREFECT_API_URL") or os.environ.get("NEWSDEDUP_PREFECT", "").lower() == "ephemeral":
        return
    from .prefect_server import ensure_prefect_server

    api = ensure_prefect_server(settings.home)
    os.environ["PREFECT_API_URL"] = api


def _task_runner(dask: str | None, workers: int):
    """Prefect's default thread runner, or a Dask cluster (``local``: one started here)."""
    if not dask:
        return None
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - optional extra
        raise CliError("--dask needs the 'dask' extra: pip install 'newsdedup[dask]'") from exc
    if dask == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": max(1, workers), "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    return DaskTaskRunner(address=dask)


def default_workers() -> int:
    """Cores this process may use, capped at 8 (analysis and alignment fork that many workers)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def _run_flow(args: argparse.Namespace) -> int:
    from .tasks.readers import parse_map

    if not (getattr(args, "verbose", False) or os.environ.get("NEWSDEDUP_DEBUG")):
        # Prefect logs every task run to the console (stderr); keep stderr for the one-line error the
        # contract promises. The logs still reach the Prefect API (UI); ``--verbose`` shows them here.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    settings = load_settings(args.db)
    field_map = None
    if args.map:
        try:
            field_map = parse_map(args.map)
        except ValueError as exc:
            raise CliError(f"--map: {exc}") from exc
    if args.manifest and not Path(args.manifest).exists():
        raise CliError(f"--manifest: no such file: {args.manifest}")
    _ensure_prefect_api(settings)
    from .flows.ingest import ingest

    flow = ingest
    workers = args.workers if args.workers else default_workers()
    runner = _task_runner(args.dask, workers)
    if runner is not None:
        flow = ingest.with_options(task_runner=runner)
    summary = flow(paths=args.paths or None, manifest=args.manifest, outlet=args.outlet, field_map=field_map,
                   db=settings.db_name, batch_size=args.batch_size, workers=1 if runner is not None else workers)
    c = summary["counts"]
    if args.json:
        print(_dump(summary))
    else:
        print(f"run {summary['run_id']} {summary['status']} in {summary['timings'].get('total', 0):.1f}s "
              f"(database {summary['database']})")
        print(f"  read {c['documents_read']} documents: {c['documents']} new, {c.get('duplicates', 0)} duplicates of "
              f"stored ones, {c['documents_known']} already stored; {c['rejects']} rejected")
        print(f"  passages {c['passages']} ({c['boilerplate']} boilerplate), matches {c['matches']}, "
              f"clusters updated {c['clusters']}")
        if c["rejects"]:
            print("  see rejects: newsdedup export rejects" + (f" --db {args.db}" if args.db else ""))
    if summary.get("nothing_read"):
        print("newsdedup: nothing could be read from the inputs (all rejected)", file=sys.stderr)
        return 1
    return 0


def _store(args: argparse.Namespace):
    from .db import Store

    return Store.open(load_settings(args.db))


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args)
    out: TextIO
    try:
        if args.output:
            out = open(args.output, "w", encoding="utf-8", newline="\n")
        else:
            out = sys.stdout
        n = 0
        for row in store.export(args.kind):
            out.write(_dump(row) + "\n")
            n += 1
        if args.output:
            out.close()
            print(f"wrote {n} {args.kind} to {args.output}", file=sys.stderr)
    finally:
        store.close()
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from . import query

    store = _store(args)
    try:
        if args.what == "clusters":
            rows = query.top_clusters(store, min_outlets=args.min_outlets, limit=args.limit)
            text = query.format_clusters(rows)
        elif args.what == "doc":
            rows = query.document(store, args.external_id)
            if not rows:
                raise CliError(f"no document with external_id {args.external_id!r}")
            text = query.format_document(rows)
        else:
            rows = query.search(store, args.text, limit=args.limit)
            text = query.format_search(rows)
        if args.json:
            for r in rows:
                print(_dump(r))
        else:
            print(text)
    finally:
        store.close()
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings(args.db)
    if args.action == "uri":
        from .db import uri_for_display

        print(uri_for_display(settings, redact=args.redact))
        return 0
    if args.action == "stop":
        from .embedded import stop_server

        if not settings.embedded:
            print("MONGODB_URI is set: nothing embedded to stop", file=sys.stderr)
            return 0
        stopped = stop_server(settings.home)
        print("embedded database stopped" if stopped else "embedded database was not running", file=sys.stderr)
        try:
            from .prefect_server import stop_prefect_server

            if stop_prefect_server(settings.home):
                print("local Prefect server stopped", file=sys.stderr)
        except ImportError:  # pragma: no cover
            pass
        return 0
    # status
    from .embedded import server_status

    st = server_status(settings.home) if settings.embedded else None
    print(_dump({"embedded": settings.embedded, "home": str(settings.home), "server": st, "db": settings.db_name}))
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from .web.server import ServeError, serve

    try:
        serve(load_settings(args.db), host=args.host, port=args.port)
    except ServeError as exc:
        raise CliError(str(exc)) from exc
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .tasks.readers import parse_map

    settings = load_settings(args.db)
    field_map = parse_map(args.map) if args.map else None
    _ensure_prefect_api(settings)
    from .flows.serve import serve

    serve(paths=args.paths, cron=args.cron, manifest=args.manifest, outlet=args.outlet, field_map=field_map,
          db=settings.db_name, name=args.name, limit=args.limit)
    return 0


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="NAME", help="database name (overrides NEWSDEDUP_DB)")

    p = argparse.ArgumentParser(prog="newsdedup", description="Find passages reused across news outlets.")
    p.add_argument("--version", action="version", version=f"newsdedup {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", parents=[common], help="ingest and process documents (default: the bundled seeds)")
    r.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (.txt .json .jsonl .zip .gz)")
    r.add_argument("--manifest", metavar="FILE", help="CSV file,outlet,url,published,title for .txt inputs")
    r.add_argument("--outlet", metavar="NAME", help="outlet for inputs without one")
    r.add_argument("--map", metavar="FIELD=SOURCE,...", help="rename JSON record fields, e.g. text=content")
    r.add_argument("--batch-size", type=int, default=1000, help="documents per batch (default 1000)")
    r.add_argument("--workers", type=int, default=0,
                   help="processes for analysis and alignment (default: the cores available, at most 8); "
                        "with --dask: workers of a local cluster")
    r.add_argument("--dask", metavar="ADDRESS|local", help="run tasks on a Dask cluster (prefect-dask)")
    r.add_argument("--json", action="store_true", help="print the run summary as JSON")
    r.add_argument("-v", "--verbose", action="store_true", help="show Prefect's flow and task logs on stderr")
    r.set_defaults(func=_run_flow)

    e = sub.add_parser("export", parents=[common], help="write one collection as JSONL, sorted")
    e.add_argument("kind", choices=EXPORT_KINDS)
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    e.set_defaults(func=cmd_export)

    q = sub.add_parser("query", parents=[common], help="look at reused passages")
    qs = q.add_subparsers(dest="what", required=True)
    qc = qs.add_parser("clusters", parents=[common], help="reused passages, most outlets first")
    qc.add_argument("--min-outlets", type=int, default=1)
    qc.add_argument("--limit", type=int, default=20)
    qd = qs.add_parser("doc", parents=[common], help="one document with passages, flags and clusters")
    qd.add_argument("external_id")
    qq = qs.add_parser("search", parents=[common], help="fuzzy search for a claim (literal text)")
    qq.add_argument("text")
    qq.add_argument("--limit", type=int, default=10)
    for x in (qc, qd, qq):
        x.add_argument("--json", action="store_true", help="JSONL output")
        x.set_defaults(func=cmd_query)

    d = sub.add_parser("db", parents=[common], help="the database connection")
    ds = d.add_subparsers(dest="action", required=True)
    du = ds.add_parser("uri", parents=[common], help="print the MongoDB connection string (starts the embedded server)")
    du.add_argument("--redact", action="store_true", help="mask the password")
    ds.add_parser("stop", parents=[common], help="stop the embedded server (and the local Prefect server)")
    ds.add_parser("status", parents=[common], help="show the embedded server's state")
    for x in ds.choices.values():
        x.set_defaults(func=cmd_db)

    s = sub.add_parser("serve", parents=[common], help="serve the ingest flow on a schedule (Prefect deployment)")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--cron", required=True, metavar="EXPR", help='cron schedule, e.g. "*/15 * * * *"')
    s.add_argument("--manifest", metavar="FILE")
    s.add_argument("--outlet", metavar="NAME")
    s.add_argument("--map", metavar="FIELD=SOURCE,...")
    s.add_argument("--name", default="newsdedup-ingest", help="deployment name")
    s.add_argument("--limit", type=int, default=1, help="concurrent runs at most")
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("web", parents=[common], help="serve the claim explorer (read-only web pages) and print its URL")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    w.set_defaults(func=cmd_web)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"newsdedup: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsdedup: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for users, traceback with NEWSDEDUP_DEBUG=1
        if os.environ.get("NEWSDEDUP_DEBUG"):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"newsdedup: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
