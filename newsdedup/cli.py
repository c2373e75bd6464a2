"""``newsdedup`` command line: run, export, query, db, serve (see CONTRACT.md).

Every command takes ``--db NAME``; errors end with a one-line reason on stderr and an exit
code that says what kind of failure it was:

====  ===================================================================================
0     success
1     failure: what was asked for does not exist (no such document), nothing could be read,
      or the work itself failed
2     usage: a wrong option or argument (argparse's own code), a bad ``--map``, a missing
      ``--manifest`` file, a date that cannot be read, an invalid ``MONGODB_URI``
3     unavailable: the database (or the Prefect server) does not answer
130   interrupted (Ctrl-C)
====  ===================================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from . import __version__, interrupts
from .config import load_settings
from .preflight import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CommandError,
    check_database,
    check_home,
)

EXPORT_KINDS = ("documents", "passages", "matches", "clusters", "derivations", "rejects")
CliError = CommandError  # the name used by callers and tests


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, default=str)


def _quiet_prefect() -> None:
    """No Prefect usage-data notice, and no telemetry, unless the user asked for it (DO_NOT_TRACK=0)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")


# ---------------------------------------------------------------------------- prefect
def _ensure_prefect_api(settings, *, quiet: bool = False) -> None:
    """Point Prefect at a long-lived local server unless the user configured one.

    Without PREFECT_API_URL every process would start a temporary API server
    (~14 s each) and the runs would vanish from the UI; a local server under
    NEWSDEDUP_HOME starts once, keeps the history and serves the UI.
    ``NEWSDEDUP_PREFECT=ephemeral`` keeps Prefect's own temporary server.
    """
    if os.environ.get("PREFECT_API_URL") or os.environ.get("NEWSDEDUP_PREFECT", "").lower() == "ephemeral":
        return
    check_home(settings, "the local Prefect server (or set PREFECT_API_URL to use another one)")
    from .embedded import EmbeddedServerError
    from .prefect_server import ensure_prefect_server

    try:
        api = ensure_prefect_server(settings.home, quiet=quiet)
    except EmbeddedServerError as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from exc
    os.environ["PREFECT_API_URL"] = api


def _task_runner(dask: str | None, workers: int):
    """Prefect's default thread runner, or a Dask cluster (``local``: one started here)."""
    if not dask:
        return None
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - optional extra
        raise CommandError("--dask needs the 'dask' extra: pip install 'newsdedup[dask]'", EXIT_USAGE) from exc
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


def _field_map(spec: str | None) -> dict[str, str] | None:
    from .tasks.readers import parse_map

    if not spec:
        return None
    try:
        return parse_map(spec)
    except ValueError as exc:
        raise CommandError(f"--map: {exc}", EXIT_USAGE) from exc


def _check_manifest(manifest: str | None) -> None:
    if manifest and not Path(manifest).is_file():
        raise CommandError(f"--manifest: no such file: {manifest}", EXIT_USAGE)


def _rejects_lines(summary: dict) -> list[str]:
    """``rejected: N reason (file, file, …)`` lines from the run summary's ``rejects_by_reason``."""
    out = []
    for r in summary.get("rejects_by_reason") or ():
        files = ", ".join(r.get("files") or ())
        more = int(r.get("n_files") or 0) - len(r.get("files") or ())
        out.append(f"    {r['count']} × {r['reason']}" + (f"  ({files}{f', … {more} more files' if more > 0 else ''})"
                                                          if files else ""))
    return out


def _run_flow(args: argparse.Namespace) -> int:
    if not (getattr(args, "verbose", False) or os.environ.get("NEWSDEDUP_DEBUG")):
        # Prefect logs every task run to the console (stderr); keep stderr for the one-line error the
        # contract promises. The logs still reach the Prefect API (UI); ``--verbose`` shows them here.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    settings = load_settings(args.db)
    field_map = _field_map(args.map)
    _check_manifest(args.manifest)
    if args.batch_size < 1 or args.workers < 0:
        raise CommandError("--batch-size must be at least 1 and --workers at least 0", EXIT_USAGE)
    _alert_outlets(args)
    check_home(settings, "the candidate index")
    check_database(settings)
    _ensure_prefect_api(settings, quiet=args.quiet)
    from .flows.ingest import ingest
    from .progress import progress_reporter

    flow = ingest
    workers = args.workers if args.workers else default_workers()
    runner = _task_runner(args.dask, workers)
    if runner is not None:
        flow = ingest.with_options(task_runner=runner)
    params = dict(paths=args.paths or None, manifest=args.manifest, outlet=args.outlet, field_map=field_map,
                  db=settings.db_name, batch_size=args.batch_size, workers=1 if runner is not None else workers)
    if args.reprocess:
        params["reprocess"] = True
    with progress_reporter(enabled=not args.quiet):
        summary = flow(**params)
    late_ctrl_c = interrupts.pressed()  # it came after the run was recorded completed (Prefect dropped it)
    c = summary["counts"]
    if args.json:
        print(_dump(summary))
    else:
        print(f"run {summary['run_id']} {summary['status']} in {summary['timings'].get('total', 0):.1f}s "
              f"(database {summary['database']})")
        print(f"  read {c['documents_read']} documents: {c['documents']} new, {c.get('duplicates', 0)} duplicates of "
              f"stored ones, {c['documents_known']} already stored; "
              f"{c['rejects']} rejected")
        if c.get("input_files_skipped"):
            print(f"  {c['input_files_skipped']} input file(s) skipped: read before with the same options "
                  "(--reprocess reads them again)")
        if c.get("recovered_runs"):
            print(f"  completed {c.get('recovered_documents', 0)} document(s) of {c['recovered_runs']} "
                  "interrupted run(s)")
        print(f"  passages {c['passages']} ({c['boilerplate']} boilerplate), matches {c['matches']}, "
              f"clusters updated {c['clusters']}, document pairs {c.get('derivations', 0)} new")
        if c["rejects"]:
            print("  rejected inputs by reason:")
            for line in _rejects_lines(summary):
                print(line)
            print("  all rejects: newsdedup export rejects" + (f" --db {args.db}" if args.db else ""))
    with contextlib.suppress(Exception):  # a run left unfinished by another process: say so
        from .db import Store
        from .query import incomplete_run_note

        store = Store.open(settings)
        try:
            note = incomplete_run_note(store)
        finally:
            store.close()
        if note:
            print(note, file=sys.stderr)
    if summary.get("nothing_read"):
        reasons = "; ".join(f"{r['count']} × {r['reason']}" for r in (summary.get("rejects_by_reason") or ())[:3])
        raise CommandError(f"nothing could be read from the inputs (all rejected: {reasons or 'see export rejects'})",
                           EXIT_FAILURE)
    if late_ctrl_c:
        raise KeyboardInterrupt
    return 0


def _store(args: argparse.Namespace):
    from .db import Store

    settings = load_settings(args.db)
    check_database(settings)
    return Store.open(settings), settings


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """stdout, or FILE written whole or not at all (a temporary name renamed at the end)."""
    if not path:
        yield sys.stdout
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fh = open(tmp, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise CommandError(f"-o: cannot write {path}: {exc.strerror or exc}", EXIT_FAILURE) from exc
    try:
        with fh:
            yield fh
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (dict, list, tuple)):
        return _dump(v)
    return v


def cmd_export(args: argparse.Namespace) -> int:
    from .db import EXPORT_FIELDS

    store, _ = _store(args)
    n = 0
    try:
        with _output(args.output) as out:
            if args.format == "csv":
                writer = csv.writer(out, lineterminator="\n")
                fields = EXPORT_FIELDS[args.kind]
                writer.writerow(fields)
                for row in store.export(args.kind):
                    writer.writerow([_csv_cell(row.get(f)) for f in fields])
                    n += 1
            else:
                for row in store.export(args.kind):
                    out.write(_dump(row) + "\n")
                    n += 1
    finally:
        store.close()
    if args.output:
        print(f"wrote {n} {args.kind} to {args.output}", file=sys.stderr)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from . import query

    try:
        filters = query.Filters.parse(args.since, args.until, args.outlet)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    if getattr(args, "limit", 1) < 0 or getattr(args, "min_outlets", 1) < 0:
        raise CommandError("--limit and --min-outlets cannot be negative", EXIT_USAGE)
    store, settings = _store(args)
    tmp = None
    try:
        note = query.incomplete_run_note(store)
        if args.what == "clusters":
            rows = query.top_clusters(store, min_outlets=args.min_outlets, limit=args.limit, filters=filters,
                                      kind=query.kind_arg(args.kind))
            text = query.format_clusters(rows)
        elif args.what == "doc":
            rows = query.document(store, args.external_id, filters)
            if not rows:
                raise CommandError(f"no document with external_id {args.external_id!r}"
                                   + (" matching --since/--until/--outlet" if filters.active else ""), EXIT_FAILURE)
            text = query.format_document(rows)
        else:
            from .db import resolve_uri

            index, tmp = query.open_search_index(store, settings, resolve_uri(settings))
            rows = query.search(store, index, args.text, limit=args.limit, filters=filters,
                                kind=query.kind_arg(args.kind))
            text = query.format_search(rows)
        with _output(args.output) as out:
            if args.json:
                for r in rows:
                    out.write(_dump(r) + "\n")
            else:
                out.write(text + "\n")
        if note:
            print(note, file=sys.stderr)
    finally:
        store.close()
        if tmp is not None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings(args.db)
    if args.action == "uri":
        from .config import redact_uri
        from .db import uri_with_database

        if args.no_check:
            from .db import resolve_uri

            uri = uri_with_database(resolve_uri(settings), settings.db_name)
        else:
            uri = uri_with_database(check_database(settings), settings.db_name)
        print(redact_uri(uri) if args.redact else uri)
        return 0
    if args.action == "stop":
        from .embedded import stop_server

        if not settings.embedded:
            print("MONGODB_URI is set: nothing embedded to stop", file=sys.stderr)
        else:
            stopped = stop_server(settings.home)
            print("embedded database stopped" if stopped else "embedded database was not running", file=sys.stderr)
        from .prefect_server import stop_prefect_server

        if stop_prefect_server(settings.home):
            print("local Prefect server stopped", file=sys.stderr)
        return 0
    # status: does the server answer? (exit 3 when it does not, like `systemctl status`)
    from .config import redact_uri
    from .db import hosts_of, ping_server
    from .embedded import server_status
    from .prefect_server import prefect_server_status

    out: dict[str, Any] = {"embedded": settings.embedded, "home": str(settings.home), "db": settings.db_name}
    if settings.embedded:
        st = server_status(settings.home)
        out["server"] = st
        got = ping_server(st["uri"]) if st else {"answers": False, "error": "the embedded server is not running "
                                                                              "(any command starts it)"}
    else:
        uri = str(settings.mongodb_uri)
        out["server"] = {"uri": redact_uri(uri), "hosts": hosts_of(uri)}
        got = ping_server(uri)
    out["answers"] = got["answers"]
    out["version" if got["answers"] else "error"] = got.get("version") if got["answers"] else got.get("error")
    pst = prefect_server_status(settings.home)
    out["prefect"] = ({"api_url": os.environ["PREFECT_API_URL"], "local": False} if os.environ.get("PREFECT_API_URL")
                      else {"local": True, "running": bool(pst), **({"ui_url": pst["ui_url"]} if pst else {})})
    print(_dump(out))
    if not got["answers"]:
        where = (f"the embedded database under {settings.home}" if settings.embedded
                 else f"MongoDB at {out['server']['hosts']} (MONGODB_URI)")
        print(f"newsdedup: cannot reach {where}: {got['error']}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from .web.server import ServeError, serve

    try:
        serve(load_settings(args.db), host=args.host, port=args.port)
    except ServeError as exc:
        raise CommandError(str(exc), EXIT_FAILURE) from exc
    return 0


def _alert_outlets(args: argparse.Namespace) -> None:
    """``--alert-outlets N`` is ``NEWSDEDUP_ALERT_OUTLETS=N`` for the runs of this command."""
    from .config import ALERT_OUTLETS_ENV, alert_outlets

    if getattr(args, "alert_outlets", None) is not None:
        os.environ[ALERT_OUTLETS_ENV] = str(args.alert_outlets)
    try:
        alert_outlets()
    except ValueError as exc:
        given = getattr(args, "alert_outlets", None) is not None
        raise CommandError(str(exc).replace(ALERT_OUTLETS_ENV, "--alert-outlets") if given else str(exc),
                           EXIT_USAGE) from exc


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.cron and not args.watch:
        raise CommandError("serve needs --cron EXPR, --watch, or both", EXIT_USAGE)
    if args.fresh_process and args.watch:
        raise CommandError("--watch runs in the serving process; it cannot be combined with --fresh-process",
                           EXIT_USAGE)
    if args.limit < 1:
        raise CommandError("--limit must be at least 1", EXIT_USAGE)
    if args.limit != 1 and not args.fresh_process:
        raise CommandError("runs in the serving process go one at a time; --limit above 1 needs --fresh-process",
                           EXIT_USAGE)
    if args.debounce <= 0:
        raise CommandError("--debounce must be a positive number of seconds", EXIT_USAGE)
    if args.workers < 0:
        raise CommandError("--workers must be at least 0", EXIT_USAGE)
    if not (args.verbose or os.environ.get("NEWSDEDUP_DEBUG")):  # one line per run on stdout; --verbose: Prefect's logs
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    settings = load_settings(args.db)
    field_map = _field_map(args.map)
    _check_manifest(args.manifest)
    _alert_outlets(args)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"newsdedup: note: {', '.join(missing)} does not exist yet; each run reads what is there",
              file=sys.stderr)
    check_home(settings, "the candidate index")
    check_database(settings)
    _ensure_prefect_api(settings)
    if args.fresh_process:
        from .flows.serve import serve

        serve(paths=args.paths, cron=args.cron, manifest=args.manifest, outlet=args.outlet, field_map=field_map,
              db=settings.db_name, name=args.name, limit=args.limit)
        return 0
    from .flows.resident import ServeOptions, serve_resident

    serve_resident(ServeOptions(paths=args.paths, cron=args.cron, watch=args.watch, debounce=args.debounce,
                                manifest=args.manifest, outlet=args.outlet, field_map=field_map, db=settings.db_name,
                                name=args.name, workers=args.workers or default_workers()))
    return 0


# ---------------------------------------------------------------------------- parser
class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="NAME", help="database name (overrides NEWSDEDUP_DB; default newsdedup)")

    p = argparse.ArgumentParser(
        prog="newsdedup", formatter_class=_Formatter,
        description="Find passages reused across news outlets, who had them first, and page furniture.",
        epilog="exit codes: 0 success, 1 failure or not found, 2 usage error, 3 database or Prefect server "
               "unreachable, 130 interrupted (Ctrl-C)\nstate folder: NEWSDEDUP_HOME (default ~/.newsdedup)")
    p.add_argument("--version", action="version", version=f"newsdedup {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", parents=[common], help="ingest and process documents (default: the bundled seeds)",
                       description="Ingest files or folders, flag boilerplate, find reused passages, store "
                                   "everything with provenance; returns when the flow run has finished.")
    r.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders (.txt .json .jsonl .zip .gz); folders are walked recursively "
                        "(default: the bundled seeds)")
    r.add_argument("--manifest", metavar="FILE", help="CSV file,outlet,url,published,title for .txt inputs")
    r.add_argument("--outlet", metavar="NAME", help="outlet for inputs without one")
    r.add_argument("--map", metavar="FIELD=SOURCE,...", help="rename JSON record fields, e.g. text=content")
    r.add_argument("--reprocess", action="store_true",
                   help="read input files again even if they were read before with the same options "
                        "(documents already stored are still not stored twice)")
    r.add_argument("--batch-size", type=int, default=1000, metavar="N", help="documents per batch (default 1000)")
    r.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes for analysis and alignment (default: the cores available, at most 8); "
                        "with --dask: workers of a local cluster")
    r.add_argument("--dask", metavar="ADDRESS|local", help="run tasks on a Dask cluster (prefect-dask)")
    r.add_argument("--alert-outlets", type=int, metavar="N",
                   help="emit newsdedup.claim.reached-outlets when a claim reaches N outlets "
                        "(default: NEWSDEDUP_ALERT_OUTLETS or 3)")
    r.add_argument("--json", action="store_true", help="print the run summary as one JSON object")
    r.add_argument("-q", "--quiet", action="store_true",
                   help="no progress display and no server notices on stderr (the summary is still printed)")
    r.add_argument("-v", "--verbose", action="store_true", help="show Prefect's flow and task logs on stderr")
    r.set_defaults(func=_run_flow)

    e = sub.add_parser("export", parents=[common], help="write one collection as JSONL or CSV, sorted",
                       description="Write one kind of record, sorted deterministically (fields: CONTRACT.md).")
    e.add_argument("kind", choices=EXPORT_KINDS, metavar="KIND", help="one of: " + ", ".join(EXPORT_KINDS))
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                   help="jsonl (default; one object per line) or csv (header row; lists and objects as JSON)")
    e.set_defaults(func=cmd_export)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--since", metavar="DATE",
                         help="only what was published on or after DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
    filters.add_argument("--until", metavar="DATE", help="only what was published on or before DATE (inclusive)")
    filters.add_argument("--outlet", metavar="NAME", help="only what this outlet published")
    filters.add_argument("--json", action="store_true", help="JSONL output (one object per line)")
    filters.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    q = sub.add_parser("query", parents=[common], help="look at reused passages, documents, claims")
    qs = q.add_subparsers(dest="what", required=True, metavar="QUERY")
    qc = qs.add_parser("clusters", parents=[common, filters], help="reused passages, most outlets first",
                       description="Reused passages, most outlets first. With --since/--until/--outlet: the "
                                   "clusters with a member of that outlet published in that range.")
    qc.add_argument("--min-outlets", type=int, default=1, metavar="N",
                    help="only clusters seen in at least N outlets (default 1)")
    qc.add_argument("--limit", type=int, default=20, metavar="N", help="show at most N clusters (default 20; 0: all)")
    qd = qs.add_parser("doc", parents=[common, filters], help="one document with passages, flags and clusters",
                       description="Every stored version of one document with its passages, boilerplate flags "
                                   "and clusters. Exit 1 when there is none.")
    qd.add_argument("external_id", metavar="EXTERNAL_ID",
                    help="the document's external id (file name without extension, or the record's id)")
    qq = qs.add_parser("search", parents=[common, filters], help="fuzzy search for a claim (literal text)",
                       description="Clusters and passages that hold the claim, best first. TEXT is always "
                                   "literal text, never a query operator.")
    qq.add_argument("text", metavar="TEXT", help="the claim to look for, as literal text")
    qq.add_argument("--limit", type=int, default=10, metavar="N", help="show at most N results (default 10)")
    for x in (qc, qq):
        x.add_argument("--kind", choices=("claim", "self", "template", "formula", "any"), default="claim",
                       help="clusters of this kind (default: claim, text copied between outlets; any: every kind)")
    for x in (qc, qd, qq):
        x.set_defaults(func=cmd_query)

    d = sub.add_parser("db", parents=[common], help="the database connection")
    ds = d.add_subparsers(dest="action", required=True, metavar="ACTION")
    du = ds.add_parser("uri", parents=[common],
                       help="print the MongoDB connection string, once the server answers (starts the embedded one)")
    du.add_argument("--redact", action="store_true", help="mask the password")
    du.add_argument("--no-check", action="store_true",
                    help="print it without asking the server to answer (the embedded server is still started)")
    ds.add_parser("stop", parents=[common], help="stop the embedded server (and the local Prefect server)")
    ds.add_parser("status", parents=[common],
                  help="whether the database answers (exit 3 if not), with the servers' state, as JSON")
    for x in ds.choices.values():
        x.set_defaults(func=cmd_db)

    s = sub.add_parser("serve", parents=[common],
                       help="serve the ingest flow (Prefect deployment) on a schedule and/or as files arrive",
                       description="Serve the ingest flow as a Prefect deployment on a cron schedule and/or "
                                   "(--watch) as files arrive in PATH, until Ctrl-C; each run ingests only what is "
                                   "new. Runs execute in this process, one at a time, with the candidate index, "
                                   "cluster state and line counts kept in memory between them.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest on every run")
    s.add_argument("--cron", metavar="EXPR", help='cron schedule, e.g. "*/15 * * * *"')
    s.add_argument("--watch", action="store_true",
                   help="also run as soon as files appear or change in PATH (only those files are read)")
    s.add_argument("--debounce", type=float, default=1.0, metavar="SECONDS",
                   help="with --watch: start a run once nothing changed in PATH for this long (default 1)")
    s.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes for analysis and alignment (default: the cores available, at most 8)")
    s.add_argument("--alert-outlets", type=int, metavar="N",
                   help="emit newsdedup.claim.reached-outlets when a claim reaches N outlets "
                        "(default: NEWSDEDUP_ALERT_OUTLETS or 3)")
    s.add_argument("--fresh-process", action="store_true",
                   help="run each flow run in a new process (Prefect's runner) instead of this one: nothing "
                        "is kept in memory between runs")
    s.add_argument("--manifest", metavar="FILE", help="CSV file,outlet,url,published,title for .txt inputs")
    s.add_argument("--outlet", metavar="NAME", help="outlet for inputs without one")
    s.add_argument("--map", metavar="FIELD=SOURCE,...", help="rename JSON record fields, e.g. text=content")
    s.add_argument("--name", default="newsdedup-ingest", metavar="NAME",
                   help="deployment name (default newsdedup-ingest; shown as ingest/NAME)")
    s.add_argument("--limit", type=int, default=1, metavar="N",
                   help="with --fresh-process: at most N runs at the same time (default 1)")
    s.add_argument("-v", "--verbose", action="store_true", help="show Prefect's flow and task logs on stderr")
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("web", parents=[common], help="serve the claim explorer (read-only web pages) and print its URL")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    w.set_defaults(func=cmd_web)
    return p


def main(argv: list[str] | None = None) -> int:
    _quiet_prefect()
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = interrupts.install()
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"newsdedup: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        done = interrupts.completed_run()
        if getattr(args, "func", None) is _run_flow and done:
            print(interrupts.after_completion(), file=sys.stderr)
        elif getattr(args, "func", None) is _run_flow:
            print("newsdedup: interrupted; the run is recorded as interrupted and the same command again "
                  "completes it", file=sys.stderr)
        else:
            print("newsdedup: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `newsdedup export documents | head`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0
    except Exception as exc:  # noqa: BLE001 - one line for users, traceback with NEWSDEDUP_DEBUG=1
        if os.environ.get("NEWSDEDUP_DEBUG"):
            raise
        from pymongo.errors import ConnectionFailure

        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, ConnectionFailure):
            print(f"newsdedup: lost the database connection: {msg.split(', Timeout:')[0][:300]}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        print(f"newsdedup: {type(exc).__name__}: {msg}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        interrupts.restore(previous)


def entry() -> None:
    """The console script: :func:`main`, then an exit that a late Ctrl-C cannot turn into a traceback."""
    code = main()
    interrupts.quiet_exit()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
