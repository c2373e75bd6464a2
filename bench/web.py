#!/usr/bin/env python3
"""Server time of every claim-explorer page on a full database (issue #18: each under 1 s).

usage: NEWSDEDUP_HOME=... python bench/web.py [--db saudi] [--repeat 5] [--cold] [--label NAME]

Starts the real ``newsdedup web --port 0`` on the database (ingest it first, e.g.
``newsdedup run /work/shared/bench/saudinewsnet --map text=content,outlet=source,published=date_extracted
--db saudi``), finds real ids by following the pages' own links (the widest claim, a
two-outlet claim from the last list page, their first-seen and member documents), then
requests every page ``--repeat`` times and reads the ``Server-Timing`` header the app
sends (time from the request to the start of the response: the whole page, since pages
are rendered before they are sent). The first request of each page is reported apart
(``first_ms``) from the median and maximum of all of them.

``--cold`` deletes the explorer's saved catalog first, so the start-up time includes
building it from the database (the one scan the list pages are served from).

Writes ``bench/results/web.json`` (``web_<label>.json`` with ``--label``). Numbers only:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, code_fingerprint, fmt_table, write_json  # noqa: E402

TARGET_MS = 1000.0
TIMING = re.compile(r"app;dur=([0-9.]+)")


def fetch(url: str) -> tuple[int, float, str, float]:
    """(status, server ms, body, client ms) of one GET."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310 - our own server on loopback
            body = r.read().decode("utf-8", "replace")
            status, header = r.status, r.headers.get("Server-Timing", "")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        status, header = e.code, e.headers.get("Server-Timing", "")
    client = (time.perf_counter() - t0) * 1000
    m = TIMING.search(header or "")
    return status, float(m.group(1)) if m else float("nan"), body, client


def links(body: str, prefix: str) -> list[str]:
    return [urllib.parse.unquote(h) for h in re.findall(rf'href="({re.escape(prefix)}[^"#?]+)', body)]


def start_server(db: str, env: dict) -> tuple[subprocess.Popen, str, list[str], float]:
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "web", "--db", db, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    started = time.monotonic() - t0
    m = re.search(r"(http://\S+?)/? ", line)
    if not m:
        proc.kill()
        raise SystemExit(f"newsdedup web did not start: {line!r} {proc.stderr.read()[-2000:]}")
    os.set_blocking(proc.stderr.fileno(), False)
    err = (proc.stderr.read() or "").splitlines()
    return proc, m.group(1), err, started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="saudi")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="delete the saved catalog first (start-up builds it)")
    ap.add_argument("--label")
    args = ap.parse_args()
    env = dict(os.environ)
    home = Path(env.get("NEWSDEDUP_HOME") or "./.newsdedup").resolve()
    if args.cold:
        for f in (home / "web").glob(f"{args.db}-*.catalog"):
            f.unlink()
    proc, base, startup_log, started = start_server(args.db, env)
    try:
        _, _, body, _ = fetch(f"{base}/claims")
        claims = links(body, "/claims/")
        if not claims:
            raise SystemExit(f"database {args.db!r} has no claim: ingest a corpus first")
        widest = claims[0]
        pages = max(int(n) for n in (re.findall(r'href="/claims\?page=(\d+)"', body) or ["1"]))
        _, _, last, _ = fetch(f"{base}/claims?page={pages}")
        small = (links(last, "/claims/") or claims)[-1]
        _, _, cbody, _ = fetch(base + urllib.parse.quote(widest))
        docs = links(cbody, "/documents/")
        _, _, sbody, _ = fetch(base + urllib.parse.quote(small))
        sdocs = links(sbody, "/documents/")
        q = urllib.parse.quote
        cases = [
            ("claims (first page)", "/claims"),
            ("claims page 2", "/claims?page=2"),
            (f"claims last page ({pages})", f"/claims?page={pages}"),
            ("claims filtered: outlet + min outlets", "/claims?outlet=sabq&min_outlets=3"),
            ("claims filtered: kind all + dates", "/claims?kind=all&from=2015-07-25&to=2015-08-05"),
            ("claims filtered: attribution", "/claims?attribution=" + q("رويترز")),
            ("claims search: long claim", "/claims?q=" + q("على مسافة 700 كم من أوروبا")),
            ("claims search: common words", "/claims?q=" + q("خادم الحرمين الشريفين")),
            ("claims search: name", "/claims?q=" + q("وزير الخارجية عادل الجبير")),
            ("claims search: operator text", "/claims?q=" + q('{"$where": "1"}')),
            ("claim: widest", q(widest)),
            ("claim: widest, members page 3 + compare", q(widest) + "?mpage=3&compare=7"),
            ("claim: two outlets", q(small)),
            ("document: first seen of the widest claim", q(docs[0]) if docs else None),
            ("document: member of a two-outlet claim", q(sdocs[-1]) if sdocs else None),
            ("outlets", "/outlets"),
            ("runs", "/runs"),
            ("404 unknown claim", "/claims/nope"),
            ("400 operator parameter", "/claims?" + q("outlet[$ne]") + "=x"),
        ]
        rows = []
        for name, path in cases:
            if path is None:
                continue
            results = [fetch(base + path) for _ in range(max(1, args.repeat))]
            server = [r[1] for r in results]
            rows.append({"page": name, "path": path, "status": results[0][0], "first_ms": round(server[0], 1),
                         "median_ms": round(statistics.median(server), 1), "max_ms": round(max(server), 1),
                         "client_median_ms": round(statistics.median(r[3] for r in results), 1),
                         "bytes": len(results[0][2].encode())})
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    worst = max(r["max_ms"] for r in rows)
    out = {
        "started": datetime.now(timezone.utc).isoformat(),
        "command": "bench/web.py " + " ".join(sys.argv[1:]),
        "database": args.db,
        "code": code_fingerprint(),
        "loadavg_after": list(os.getloadavg()),
        "startup": {"seconds_to_url": round(started, 2), "log": startup_log, "cold": args.cold},
        "target_ms": TARGET_MS,
        "worst_server_ms": worst,
        "all_under_target": worst < TARGET_MS,
        "pages": rows,
    }
    path = RESULTS / (f"web_{args.label}.json" if args.label else "web.json")
    write_json(path, out)
    print(fmt_table(rows, ["page", "status", "first_ms", "median_ms", "max_ms", "bytes"]))
    print(f"start-up {started:.1f} s ({'cold: catalog built' if args.cold else 'catalog from disk if current'}); "
          f"worst page {worst:.0f} ms; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
