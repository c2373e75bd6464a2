"""Serve the ``ingest`` flow as a scheduled Prefect deployment.

Each scheduled run gets the same parameters; the flow skips input files already read with the
same options and documents already stored, so a run with nothing new finishes in seconds.

Prefect's own ``flow.serve`` prints ``prefect deployment run …`` as the way to trigger a run, which
in a new shell talks to a temporary server of its own (``Deployment … not found``) unless
``PREFECT_API_URL`` is set there too; and it swallows Ctrl-C, so the command exited 0. This
module drives the same :class:`prefect.runner.Runner` itself: it prints a trigger command that
names the API, and lets ``KeyboardInterrupt`` through (``newsdedup`` exits 130).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import warnings
from pathlib import Path

from .ingest import ingest


def deployment_parameters(paths: list[str], manifest: str | None, outlet: str | None,
                          field_map: dict[str, str] | None, db: str | None) -> dict:
    """Absolute paths, so runs work whatever the runner's working directory is."""
    return {"paths": [str(Path(p).resolve()) for p in paths],
            "manifest": str(Path(manifest).resolve()) if manifest else None,
            "outlet": outlet, "field_map": field_map, "db": db}


def trigger_command(deployment: str, api_url: str | None) -> str:
    """A shell command that starts a run of ``deployment`` now, from any shell on this machine."""
    run = f"prefect deployment run {shlex.quote(deployment)}"
    return f"PREFECT_API_URL={shlex.quote(api_url)} {run}" if api_url else run


def serve(paths: list[str], cron: str, *, manifest: str | None = None, outlet: str | None = None,
          field_map: dict[str, str] | None = None, db: str | None = None, name: str = "newsdedup-ingest",
          limit: int = 1) -> None:
    """Block serving the deployment; Ctrl-C (``KeyboardInterrupt``) pauses the schedule and is re-raised."""
    from prefect.runner import Runner
    from prefect.settings import PREFECT_UI_URL

    runner = Runner(name=name, pause_on_shutdown=True, limit=limit)
    deployment_id = runner.add_flow(
        ingest, name=name, cron=cron, parameters=deployment_parameters(paths, manifest, outlet, field_map, db),
        description=f"newsdedup ingest of {', '.join(paths)} on '{cron}'", tags=["newsdedup"])
    full = f"{ingest.name}/{name}"
    api = os.environ.get("PREFECT_API_URL")
    lines = [f"serving deployment {full!r} on schedule {cron!r} (Ctrl-C stops serving and pauses the schedule)",
             "run it now, from any shell:", f"  {trigger_command(full, api)}"]
    ui = PREFECT_UI_URL.value()
    if ui:
        lines.append(f"Prefect UI: {ui}/deployments/deployment/{deployment_id}")
    print("\n".join(lines), flush=True)
    # Prefect's SIGTERM handler calls the runner's async stop without awaiting it; the schedule is
    # paused all the same, so its warning is noise
    warnings.filterwarnings("ignore", message=r"coroutine 'Runner\.astop' was never awaited")
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        print("newsdedup: stopped serving; the schedule is paused", file=sys.stderr)
        raise
