"""Serve the ``ingest`` flow as a scheduled Prefect deployment.

Each scheduled run gets the same parameters; the flow skips input files whose
sha256 an earlier run already ingested and documents already stored, so a run
with nothing new finishes in seconds.
"""

from __future__ import annotations

from pathlib import Path

from .ingest import ingest


def deployment_parameters(paths: list[str], manifest: str | None, outlet: str | None,
                          field_map: dict[str, str] | None, db: str | None) -> dict:
    """Absolute paths, so runs work whatever the runner's working directory is."""
    return {"paths": [str(Path(p).resolve()) for p in paths],
            "manifest": str(Path(manifest).resolve()) if manifest else None,
            "outlet": outlet, "field_map": field_map, "db": db}


def serve(paths: list[str], cron: str, *, manifest: str | None = None, outlet: str | None = None,
          field_map: dict[str, str] | None = None, db: str | None = None, name: str = "newsdedup-ingest",
          limit: int = 1) -> None:
    """Block serving the deployment (Ctrl-C stops it and pauses the schedule)."""
    ingest.serve(name=name, cron=cron, parameters=deployment_parameters(paths, manifest, outlet, field_map, db),
                 description=f"newsdedup ingest of {', '.join(paths)} on '{cron}'", tags=["newsdedup"],
                 limit=limit)
