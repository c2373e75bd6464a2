"""Entry point of the embedded server: SecantusDB's own launcher, with ``getLog`` answering like mongod.

mongosh asks every server it connects to for ``getLog: "startupWarnings"`` and prints each line
that is not one of mongod's structured (JSON) log lines as ``Unexpected log line format``.
SecantusDB 0.7 answers any ``getLog`` name with its whole in-memory log (one "connection accepted"
line per client connection since it started, up to 5,000) as plain text, so after a run mongosh
opened with hundreds of such lines. Here ``startupWarnings`` is what it means (the server has none),
and the other logs are mongod's JSON lines; everything else is SecantusDB unchanged
(``python -m newsdedup.secantus_server`` takes the same options as ``python -m secantus``).
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

LOG_NAMES = ("global", "startupWarnings")


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def get_log(doc: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """``getLog`` as mongod answers it: ``*`` lists the logs, ``startupWarnings`` holds the startup
    warnings (none here), ``global`` the recent log as structured JSON lines."""
    name = doc.get("getLog")
    if name == "*":
        return {"names": list(LOG_NAMES), "ok": 1.0}
    if name != "global" or getattr(ctx, "logs", None) is None:
        return {"totalLinesWritten": 0, "log": [], "ok": 1.0}
    lines = []
    for e in ctx.logs.tail():
        ts = _dt.datetime.fromtimestamp(e.ts, tz=_dt.timezone.utc).isoformat(timespec="milliseconds")
        lines.append(json.dumps({"t": {"$date": ts}, "s": e.level, "c": e.component, "id": 0, "ctx": "conn",
                                 "msg": e.msg, "attr": _jsonable(e.ctx or {})}, ensure_ascii=False))
    return {"totalLinesWritten": len(lines), "log": lines, "ok": 1.0}


def main() -> int:
    from secantus import commands
    from secantus.cli import main as secantus_main

    commands._HANDLERS["getLog"] = get_log  # noqa: SLF001 - the one command answered differently
    return int(secantus_main() or 0)


if __name__ == "__main__":  # pragma: no cover - run as the server process
    raise SystemExit(main())
