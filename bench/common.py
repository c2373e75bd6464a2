"""Shared helpers for the benchmark scripts in ``bench/`` (no timing asserts, just measuring).

- :func:`saudinewsnet_records` — the SaudiNewsNet articles in a fixed order (zip names
  sorted, JSON array order), optionally only the first ``n``.
- :func:`write_jsonl_days` — a subset written as one JSONL file per day (same field names
  as the zips), so every fraction goes through the same reader.
- :class:`FreshHome` — a private ``NEWSDEDUP_HOME`` (own embedded database server, own
  local Prefect server) for one benchmark; stops both servers and deletes the folder.
- :func:`run_cli` — run ``newsdedup ...`` in a subprocess while sampling the resident
  memory (RSS) of its process tree, of the embedded database server and of the local
  Prefect server every ``interval`` seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED = Path(os.environ.get("NEWSDEDUP_SHARED", ROOT.parent / "shared"))
SAUDI = SHARED / "bench" / "saudinewsnet"
SAUDI_MAP = "text=content,outlet=source,published=date_extracted"
MB = 1024 * 1024


# ---------------------------------------------------------------------------- data
def saudinewsnet_zips(root: Path = SAUDI) -> list[Path]:
    zips = sorted(Path(root).glob("*.zip"), key=lambda p: p.name)
    if not zips:
        raise SystemExit(f"no SaudiNewsNet zips under {root}")
    return zips


def saudinewsnet_records(n: int | None = None, root: Path = SAUDI) -> Iterator[tuple[str, dict]]:
    """(day, record) for the first ``n`` articles (all when None), zip-name sorted, array order."""
    k = 0
    for z in saudinewsnet_zips(root):
        with zipfile.ZipFile(z) as zf:
            for name in sorted(zf.namelist()):
                if not name.endswith(".json"):
                    continue
                for rec in json.loads(zf.read(name)):
                    if n is not None and k >= n:
                        return
                    yield z.stem, rec
                    k += 1


def count_records(root: Path = SAUDI) -> int:
    return sum(1 for _ in saudinewsnet_records(None, root))


def write_jsonl_days(records: Iterator[tuple[str, dict]], out_dir: Path) -> dict[str, int]:
    """Write (day, record) pairs as ``out_dir/<day>.jsonl`` (one file per day); returns counts per day."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    handles: dict[str, object] = {}
    try:
        for day, rec in records:
            fh = handles.get(day)
            if fh is None:
                fh = handles[day] = open(out_dir / f"{day}.jsonl", "w", encoding="utf-8", newline="\n")
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]
            counts[day] = counts.get(day, 0) + 1
    finally:
        for fh in handles.values():
            fh.close()  # type: ignore[attr-defined]
    return counts


# ---------------------------------------------------------------------------- environment
class FreshHome:
    """A temporary NEWSDEDUP_HOME; ``env`` is the environment for subprocesses using it.

    On exit the embedded database server and the local Prefect server of that home are
    stopped (``newsdedup db stop``) and the folder is removed (``keep=True`` keeps it)."""

    def __init__(self, prefix: str = "nd-bench-", keep: bool = False, base: str | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        self.keep = keep
        self.env = dict(os.environ)
        self.env["NEWSDEDUP_HOME"] = str(self.path)
        self.env.pop("MONGODB_URI", None)
        self.env.pop("PREFECT_API_URL", None)
        self.env.pop("NEWSDEDUP_PREFECT", None)
        self.env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    def __enter__(self) -> "FreshHome":
        return self

    def start_servers(self) -> dict[str, float]:
        """Start the embedded database and the local Prefect server up front (timed separately)."""
        t0 = time.perf_counter()
        cli(["db", "uri"], self.env)
        t1 = time.perf_counter()
        code = ("import os; from pathlib import Path; from newsdedup.prefect_server import ensure_prefect_server; "
                "print(ensure_prefect_server(Path(os.environ['NEWSDEDUP_HOME'])))")
        subprocess.run([sys.executable, "-c", code], env=self.env, check=True, capture_output=True, text=True)
        t2 = time.perf_counter()
        return {"db_server_start_s": round(t1 - t0, 2), "prefect_server_start_s": round(t2 - t1, 2)}

    def stop(self) -> None:
        try:
            cli(["db", "stop"], self.env, check=False, timeout=120)
        except Exception as exc:  # noqa: BLE001 - best effort, report and go on
            print(f"warning: db stop failed: {exc}", file=sys.stderr)

    def __exit__(self, *exc) -> None:
        self.stop()
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def cli(args: list[str], env: dict, check: bool = True, timeout: float = 3600) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=str(ROOT))
    if check and proc.returncode != 0:
        raise RuntimeError(f"newsdedup {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc


# ---------------------------------------------------------------------------- memory sampling
def _state_pid(path: Path) -> int | None:
    try:
        pid = json.loads(path.read_text()).get("pid")
        return int(pid) if pid else None
    except (OSError, ValueError, AttributeError):
        return None


def _pss(pid: int) -> int | None:
    """Proportional set size (bytes): shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _tree_mem(pid: int | None) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) of a process and all its descendants. Forked workers share the
    parent's pages copy-on-write: RSS counts those once per process, PSS splits them (the honest sum)."""
    if not pid:
        return 0, 0
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    rss = pss = 0
    for q in procs:
        try:
            r = q.memory_info().rss
        except psutil.Error:
            continue
        rss += r
        x = _pss(q.pid)
        pss += r if x is None else x
    return rss, pss


def _tree_rss(pid: int | None) -> int:
    return _tree_mem(pid)[0]


@dataclass
class MemoryPeaks:
    """Peak RSS (bytes) seen per group, and of their sum at one sampling instant."""

    newsdedup: int = 0  # RSS sum: the CLI process and all its children (forked / local Dask workers)
    newsdedup_pss: int = 0  # the same processes' PSS sum (shared copy-on-write pages counted once)
    db_server: int = 0  # the embedded SecantusDB server of the home
    prefect_server: int = 0  # the local Prefect API server of the home
    total_nd_db: int = 0  # newsdedup tree + db server (RSS), summed at the same instant
    total_nd_db_pss: int = 0  # newsdedup tree + db server (PSS), summed at the same instant
    total_all: int = 0  # ... + Prefect server
    samples: int = 0
    series: list[tuple[float, int, int, int]] = field(default_factory=list)

    def as_mb(self) -> dict:
        return {"newsdedup_tree_mb": round(self.newsdedup / MB, 1),
                "newsdedup_tree_pss_mb": round(self.newsdedup_pss / MB, 1),
                "db_server_mb": round(self.db_server / MB, 1),
                "peak_newsdedup_plus_db_pss_mb": round(self.total_nd_db_pss / MB, 1),
                "prefect_server_mb": round(self.prefect_server / MB, 1),
                "peak_newsdedup_plus_db_mb": round(self.total_nd_db / MB, 1),
                "peak_all_mb": round(self.total_all / MB, 1), "samples": self.samples}


def run_cli(args: list[str], home: FreshHome, interval: float = 0.5, timeout: float = 7200) -> dict:
    """Run ``newsdedup ARGS`` with RSS sampling; returns {rc, wall_s, stdout, stderr, memory, summary}."""
    peaks = MemoryPeaks()
    db_state = home.path / "server.json"
    pf_state = home.path / "prefect" / "server.json"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", *args], env=home.env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            nd, nd_pss = _tree_mem(proc.pid)
            db, db_pss = _tree_mem(_state_pid(db_state))
            pf = _tree_rss(_state_pid(pf_state))
            peaks.newsdedup = max(peaks.newsdedup, nd)
            peaks.newsdedup_pss = max(peaks.newsdedup_pss, nd_pss)
            peaks.total_nd_db_pss = max(peaks.total_nd_db_pss, nd_pss + db_pss)
            peaks.db_server = max(peaks.db_server, db)
            peaks.prefect_server = max(peaks.prefect_server, pf)
            peaks.total_nd_db = max(peaks.total_nd_db, nd + db)
            peaks.total_all = max(peaks.total_all, nd + db + pf)
            peaks.samples += 1
            if peaks.samples % 10 == 1:
                peaks.series.append((round(time.perf_counter() - t0, 1), nd, db, pf))
            stop.wait(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        stop.set()
        th.join()
    wall = time.perf_counter() - t0
    summary = None
    if "--json" in args:
        for line in reversed(out.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    summary = json.loads(line)
                    break
                except ValueError:
                    pass
    if proc.returncode != 0:
        raise RuntimeError(f"newsdedup {' '.join(args)} failed ({proc.returncode}): {err.strip()[-3000:]}")
    return {"rc": proc.returncode, "wall_s": round(wall, 2), "stdout": out, "stderr": err,
            "memory": peaks.as_mb(),
            "memory_series_mb": [(t, round(a / MB), round(b / MB), round(c / MB)) for t, a, b, c in peaks.series],
            "summary": summary}


def code_fingerprint() -> dict:
    """Which code a measurement ran: git HEAD, and a hash of the package sources as they are on disk
    (the working tree may hold uncommitted edits)."""
    h = hashlib.sha256()
    files = sorted([*ROOT.glob("flows/**/*.py"), *ROOT.glob("tasks/**/*.py"), *ROOT.glob("newsdedup/**/*.py")])
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "flows", "tasks", "newsdedup"],
                                    cwd=str(ROOT), capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        head, dirty = None, None
    return {"git_head": head, "uncommitted_changes": dirty, "sources_sha256": h.hexdigest()[:16]}


def fmt_table(rows: list[dict], cols: list[str], headers: list[str] | None = None) -> str:
    """A plain-text table (right-aligned numbers)."""
    headers = headers or cols
    def fmt(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"
        return str(v)

    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- cluster samples
EYE_MARK = "# Eye check"


def snip(text: str | None, n: int) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[:n] + "…"


def write_cluster_sample(path: Path, clusters: list[dict], header: list[str], head, member) -> None:
    """A sample of clusters as markdown for reading by eye: ``header`` lines, then per cluster ``head(i, c)``
    (its heading), first seen, attribution, the representative and up to 6 members (``member(m)``). A
    hand-written ``# Eye check`` section at the end of an earlier file is kept when it names exactly these
    clusters (the verdicts of another sample would be wrong here)."""
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        at = old.find(f"\n{EYE_MARK}\n")  # the section heading, not a header line that names it
        if at >= 0 and all(c and f"`{c['cluster_id']}`" in old[at + 1:] for c in clusters):
            kept = old[at + 1:]
    lines = list(header)
    for i, c in enumerate(clusters, 1):
        if not c:
            continue
        fs = c.get("first_seen") or {}
        lines += [head(i, c),
                  f"first seen: {fs.get('outlet')} {fs.get('published')}; attribution: {c.get('attribution') or '—'}",
                  "", f"> {snip(c.get('representative'), 400)}", ""]
        lines += [member(m) for m in (c.get("members") or [])[:6]]
        if len(c.get("members") or []) > 6:
            lines.append(f"- … {len(c['members']) - 6} more members")
        lines.append("")
    path.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")
