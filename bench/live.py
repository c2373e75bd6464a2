"""Live monitoring benchmark (issue #19, parts 1-2): the resident served deployment against fresh processes.

usage: python bench/live.py [--snapshot DIR] [--work DIR] [--drops 10] [--debounce 1] [--repeat 1]
                            [--fresh-drops 3] [--full-run] [--label NAME]

On SaudiNewsNet: every day but the last is ingested once into a home (``newsdedup run`` on one JSONL
file per day, ``bench/common.write_jsonl_days``, as ``bench/scale.py --incremental`` splits it) that
is kept as a snapshot (``--snapshot``; made when missing). Each measurement starts from a copy
of it, with its embedded database and local Prefect server started before the clock:

1. **the last day, fresh process**: ``newsdedup run <day>.jsonl --map ... --json`` (wall time of the
   CLI process, stage timings from the run summary, peak memory);
2. **the last day, resident**: ``newsdedup serve INBOX --watch`` on an inbox holding the earlier days
   (already ingested: the catch-up run skips them), which has read the saved state into memory;
   the day's file is renamed into the inbox, and the time until the server prints the run's end is
   its wall time (the debounce included), with the run record's stage timings;
3. **one new article, resident**: then, ``--drops`` times, one new article (a copy of an article in a
   claim of two or more outlets, under a new id and outlet, with a new first line) is renamed into
   the inbox; the time from the rename to its passage in a cluster in MongoDB (polled every 50 ms)
   is the latency; the parts: the watcher and the new flow run (rename → Prefect flow-run start),
   Prefect's engine and the run's first tasks (→ ``runs.started_at``), the stages, the cluster write;
4. **one new article, fresh process** (``--fresh-drops``): ``newsdedup run <article>.jsonl`` of the same
   kind of article, time to the cluster and wall time (it also makes the resident state outdated:
   one more resident drop after it measures the reload).

0. with ``--full-run``: **the whole corpus, fresh process**: ``newsdedup run`` of every day (the earlier
   days and the last) into an empty home, the denominator of "one more day is x % of a full run"
   (issue #19: ≤ 6.5 % by wall time with the resident deployment), measured in the same benchmark run.

Writes ``bench/results/live.json`` (``live_<label>.json``). The machine is shared: compare ratios and
medians taken in one run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (MB, RESULTS, ROOT, SAUDI_MAP, FreshHome, _tree_mem, cli, code_fingerprint,  # noqa: E402
                    fmt_table, run_cli, saudinewsnet_records, saudinewsnet_zips, write_json, write_jsonl_days)

NEW_OUTLET = "live-bench"


# ---------------------------------------------------------------------------- data and homes
def prepare_data(work: Path) -> tuple[Path, Path, str]:
    """``work/data/base/<day>.jsonl`` for every day but the last, ``work/data/day/<last>.jsonl``."""
    last = saudinewsnet_zips()[-1].stem
    base, day = work / "data" / "base", work / "data" / "day"
    if not (day / f"{last}.jsonl").exists():
        shutil.rmtree(work / "data", ignore_errors=True)
        write_jsonl_days(((d, r) for d, r in saudinewsnet_records() if d != last), base)
        write_jsonl_days(((d, r) for d, r in saudinewsnet_records() if d == last), day)
    return base, day / f"{last}.jsonl", last


def make_snapshot(snapshot: Path, base: Path) -> dict:
    """Ingest ``base`` into a fresh home and keep the stopped home as ``snapshot``."""
    with FreshHome(prefix="nd-live-base-", keep=True) as home:
        boot = home.start_servers()
        r = run_cli(["run", str(base), "--map", SAUDI_MAP, "--json"], home)
        home.stop()
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.move(str(home.path), str(snapshot))
    return {"boot": boot, "wall_s": r["wall_s"], "timings": r["summary"]["timings"], "counts": r["summary"]["counts"]}


class SnapshotHome(FreshHome):
    """A FreshHome holding a copy of the snapshot (removed, servers stopped, on exit)."""

    def __init__(self, snapshot: Path, base: str | None = None) -> None:
        super().__init__(prefix="nd-live-", base=base)
        t = time.perf_counter()
        shutil.rmtree(self.path)
        shutil.copytree(snapshot, self.path, symlinks=True)
        self.copy_s = round(time.perf_counter() - t, 1)
        for stale in ("server.json", "prefect/server.json"):
            (self.path / stale).unlink(missing_ok=True)


def _db(home: FreshHome):
    import pymongo

    uri = cli(["db", "uri"], home.env).stdout.strip()
    return pymongo.MongoClient(uri, tz_aware=True).get_default_database()


def _same_port(home: FreshHome, snapshot: Path) -> bool:
    """The derived state is kept per server address: a copy served on another port would rebuild it."""
    uri = cli(["db", "uri"], home.env).stdout.strip()
    port = (snapshot / "server.port").read_text().strip()
    ok = f":{port}/" in uri
    if not ok:
        print(f"warning: the copy's database is at {uri}, the snapshot's was on port {port}: state is rebuilt",
              file=sys.stderr, flush=True)
    return ok


def _api(home: FreshHome) -> str:
    return json.loads((home.path / "prefect" / "server.json").read_text())["api_url"]


# ---------------------------------------------------------------------------- the resident server
class Served:
    def __init__(self, home: FreshHome, inbox: Path, debounce: float) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "serve", str(inbox), "--watch",
                                      "--debounce", str(debounce), "--map", SAUDI_MAP], cwd=str(ROOT),
                                     env=home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.peak_pss = 0
        self._sampling = threading.Event()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put((time.time(), line.rstrip("\n")))

    def wait_for(self, prefix: str, timeout: float = 3600) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and self.lines.empty():
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.proc.stderr.read()[-3000:]}")
            try:
                at, line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.log.append(line)
            if line.startswith(prefix):
                return at, line
        raise RuntimeError(f"no {prefix!r} line within {timeout}s: {self.log[-5:]}")

    def pss(self) -> int:
        return _tree_mem(self.proc.pid)[1]

    def sample_peak(self) -> threading.Event:
        """Sample the serving process tree's PSS every 0.5 s until the returned event is set."""
        stop = threading.Event()
        self.peak_pss = 0

        def loop() -> None:
            while not stop.is_set():
                self.peak_pss = max(self.peak_pss, self.pss())
                stop.wait(0.5)

        threading.Thread(target=loop, daemon=True).start()
        return stop

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(15)  # SIGTERM (SIGINT may be ignored in a backgrounded benchmark)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        return self.proc.returncode


def _move_in(src_text: str, inbox: Path, name: str) -> float:
    """Write ``name`` under a hidden name in the inbox (the watcher ignores it), then rename it into
    place; returns the wall-clock time of the rename."""
    tmp = inbox / f".{name}"
    tmp.write_text(src_text, encoding="utf-8")
    t = time.time()
    os.replace(tmp, inbox / name)
    return t


def _run_record(db, **query) -> dict:
    deadline = time.monotonic() + 60
    while True:
        r = db.runs.find_one({**query, "status": {"$in": ["completed", "completed-nothing-read", "failed"]}},
                             sort=[("started_at", -1)])
        if r is not None or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def _flow_run_start(api: str, flow_run_id: str | None) -> float | None:
    import httpx

    if not flow_run_id:
        return None
    r = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30)
    start = r.json().get("start_time") if r.status_code == 200 else None
    return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() if start else None


def _articles(db, n: int) -> list[dict]:
    """``n`` new articles, each a copy of a last-day article that is in a claim of 2+ outlets."""
    last_docs = db.documents.find({}, {"_id": 1, "published": 1}, sort=[("ingest_seq", -1)]).limit(1500)
    ids = [d["_id"] for d in last_docs]
    picked: list[dict] = []
    seen: set[str] = set()
    for doc_id in ids:
        c = db.clusters.find_one({"members.doc_id": doc_id, "n_outlets": {"$gte": 2}}, {"_id": 1})
        if c is None or c["_id"] in seen:
            continue
        seen.add(c["_id"])
        d = db.documents.find_one({"_id": doc_id}, {"text": 1, "title": 1})
        picked.append(d)
        if len(picked) >= n:
            break
    return picked


def _article_file(d: dict, k: int, tag: str) -> tuple[str, str, str]:
    """(file name, JSONL text, doc_id the pipeline will give it) for a copy of ``d``."""
    from newsdedup.tasks.readers import Document, iter_inputs, parse_map

    ext = f"live-{tag}-{k}"
    rec = {"id": ext, "source": NEW_OUTLET, "title": d.get("title"), "date_extracted": "2015-08-12 09:00:00",
           "content": f"عاجل ({tag} {k})\n" + d["text"]}
    text = json.dumps(rec, ensure_ascii=False) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"{ext}.jsonl"
        p.write_text(text, encoding="utf-8")
        doc = next(x for x in iter_inputs([p], field_map=parse_map(SAUDI_MAP)) if isinstance(x, Document))
    return f"{ext}.jsonl", text, doc.doc_id


def _until_clustered(db, doc_id: str, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.clusters.find_one({"members.doc_id": doc_id}, {"_id": 1}) is not None:
            return time.time()
        time.sleep(0.05)
    raise RuntimeError(f"{doc_id} reached no cluster within {timeout}s")


STAGES = ("read_analyze", "reuse_prepare_index", "reuse_index_commit", "reuse_rarity", "reuse_candidates",
          "reuse_partners", "reuse_align", "cluster_grow", "cluster_build", "cluster_write", "cluster_repoint",
          "cluster", "claim_events", "passages", "total")


def resident_session(snapshot: Path, base: Path, day: Path, args) -> dict:
    out: dict = {}
    with SnapshotHome(snapshot, args.tmp) as home:
        out["copy_s"] = home.copy_s
        out["boot"] = home.start_servers()
        out["same_db_port_as_snapshot"] = _same_port(home, snapshot)
        inbox = home.path / "inbox"
        inbox.mkdir()
        for f in sorted(base.glob("*.jsonl")):
            os.link(f, inbox / f.name) if f.stat().st_dev == inbox.stat().st_dev else shutil.copy(f, inbox / f.name)
        db, api = _db(home), _api(home)
        t0 = time.time()
        served = Served(home, inbox, args.debounce)
        try:
            served.wait_for("serving deployment")
            at, line = served.wait_for("run ")  # the catch-up run over the inbox (everything known)
            out["start_to_ready_s"] = round(at - t0, 2)
            out["catch_up_run"] = line
            out["idle_pss_mb"] = round(served.pss() / MB)
            # ---- the last day
            stop = served.sample_peak()
            t = _move_in(day.read_text(encoding="utf-8"), inbox, day.name)
            at, line = served.wait_for("run ")
            stop.set()
            rec = _run_record(db, **{"parameters.only": str((inbox / day.name).resolve())})
            out["day"] = {"wall_s": round(at - t, 2), "line": line, "timings": rec["timings"],
                          "counts": rec["counts"], "resident_state": rec.get("resident_state"),
                          "peak_pss_mb": round(served.peak_pss / MB)}
            print(f"[resident] day: {out['day']['wall_s']} s wall, stage total {rec['timings']['total']} s, "
                  f"state {rec.get('resident_state')}", flush=True)
            # ---- one article at a time
            docs = _articles(db, args.drops + args.fresh_drops + 1)
            drops = []
            for k in range(args.drops):
                drops.append(_drop(served, db, api, inbox, docs[k], k, "r"))
                time.sleep(1.0)
            out["drops"] = drops
            out["after_drops_pss_mb"] = round(served.pss() / MB)
            # ---- the same kind of article, each through a fresh process (the resident state goes outdated)
            fresh = []
            elsewhere = home.path / "elsewhere"
            elsewhere.mkdir()
            for k in range(args.fresh_drops):
                name, text, doc_id = _article_file(docs[args.drops + k], k, "f")
                (elsewhere / name).write_text(text, encoding="utf-8")
                t = time.time()
                proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "run", str(elsewhere / name),
                                         "--map", SAUDI_MAP, "--json"], cwd=str(ROOT), env=home.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                tc = _until_clustered(db, doc_id)
                so, se = proc.communicate(timeout=600)
                wall = time.time() - t
                summary = json.loads(so.strip().splitlines()[-1]) if proc.returncode == 0 else None
                fresh.append({"to_cluster_s": round(tc - t, 2), "wall_s": round(wall, 2),
                              "timings": summary and summary["timings"]})
                print(f"[fresh] article {k}: cluster after {tc - t:.2f} s, process {wall:.2f} s", flush=True)
            out["fresh_drops"] = fresh
            # ---- a resident drop right after a run elsewhere: the state is read again
            if args.fresh_drops:
                out["drop_after_run_elsewhere"] = _drop(served, db, api, inbox, docs[-1], args.drops, "r")
        finally:
            out["stop_exit_code"] = served.stop()
            out["serve_log"] = served.log[-30:]
    return out


def _drop(served: Served, db, api: str, inbox: Path, d: dict, k: int, tag: str) -> dict:
    name, text, doc_id = _article_file(d, k, tag)
    t = _move_in(text, inbox, name)
    tc = _until_clustered(db, doc_id)
    at, line = served.wait_for("run ")
    rec = _run_record(db, **{"parameters.only": str((inbox / name).resolve())})
    fr_start = _flow_run_start(api, rec.get("flow_run_id"))
    row = {"to_cluster_s": round(tc - t, 3), "to_run_end_s": round(at - t, 3),
           "to_flow_run_start_s": round(fr_start - t, 3) if fr_start else None,
           "to_run_record_s": round(rec["started_at"].timestamp() - t, 3),
           "timings": {k2: rec["timings"].get(k2) for k2 in STAGES if k2 in rec["timings"]},
           "matches": rec["counts"]["matches"], "clusters": rec["counts"]["clusters"],
           "claim_events": rec["counts"].get("claim_events"), "resident_state": rec.get("resident_state")}
    print(f"[resident] article {k}: cluster after {row['to_cluster_s']:.2f} s (flow run started "
          f"+{row['to_flow_run_start_s']}, run record +{row['to_run_record_s']}, run end +{row['to_run_end_s']}); "
          f"state {row['resident_state']}", flush=True)
    return row


def full_run(base: Path, day: Path, args) -> dict:
    """The whole corpus (every earlier day and the last) in one ``newsdedup run`` into an empty home."""
    with FreshHome(prefix="nd-live-full-", base=args.tmp) as home:
        boot = home.start_servers()
        r = run_cli(["run", str(base), str(day), "--map", SAUDI_MAP, "--json"], home)
        s = r["summary"]
        print(f"[fresh] full corpus: {r['wall_s']} s wall, stage total {s['timings']['total']} s", flush=True)
        return {"boot": boot, "wall_s": r["wall_s"], "timings": s["timings"], "counts": s["counts"],
                "peak_pss_mb": r["memory"]["newsdedup_tree_pss_mb"],
                "peak_pss_with_db_mb": r["memory"].get("peak_newsdedup_plus_db_pss_mb")}


def fresh_day(snapshot: Path, day: Path, args) -> dict:
    with SnapshotHome(snapshot, args.tmp) as home:
        boot = home.start_servers()
        same = _same_port(home, snapshot)
        r = run_cli(["run", str(day), "--map", SAUDI_MAP, "--json"], home)
        s = r["summary"]
        print(f"[fresh] day: {r['wall_s']} s wall, stage total {s['timings']['total']} s", flush=True)
        return {"copy_s": home.copy_s, "boot": boot, "same_db_port_as_snapshot": same, "wall_s": r["wall_s"],
                "timings": s["timings"],
                "counts": s["counts"], "peak_pss_mb": r["memory"]["newsdedup_tree_pss_mb"]}


# ---------------------------------------------------------------------------- report
def _median(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


def summarize(result: dict) -> dict:
    fresh, res = result["fresh_day"], [s["day"] for s in result["resident"]]
    summ = {"day_wall_s": {"fresh": _median([f["wall_s"] for f in fresh]), "resident": _median([r["wall_s"] for r in res])},
            "day_stage_total_s": {"fresh": _median([f["timings"]["total"] for f in fresh]),
                                  "resident": _median([r["timings"]["total"] for r in res])}}
    full = result.get("full_run")
    if full:
        summ["full_run_wall_s"] = full["wall_s"]
        summ["full_run_stage_total_s"] = full["timings"]["total"]
        summ["day_resident_wall_over_full_run_wall"] = round(summ["day_wall_s"]["resident"] / full["wall_s"], 4)
        summ["day_fresh_wall_over_full_run_wall"] = round(summ["day_wall_s"]["fresh"] / full["wall_s"], 4)
        summ["day_share_of_documents"] = round(result["fresh_day"][0]["counts"]["documents"]
                                               / max(1, full["counts"]["documents"]), 4)
        summ["day_resident_ok_6_5_percent"] = summ["day_resident_wall_over_full_run_wall"] <= 0.065
    base = result.get("base")
    if base and not full:
        # without --full-run: the snapshot's ingest of every day but the last, in this same benchmark run, is
        # the denominator; it is smaller than a full run, so this share is an upper bound of day / full run
        summ["base_run_wall_s"] = base["wall_s"]
        summ["day_resident_wall_over_base_run_wall"] = round(summ["day_wall_s"]["resident"] / base["wall_s"], 4)
        summ["day_fresh_wall_over_base_run_wall"] = round(summ["day_wall_s"]["fresh"] / base["wall_s"], 4)
        summ["day_resident_ok_6_5_percent_upper_bound"] = summ["day_resident_wall_over_base_run_wall"] <= 0.065
    summ["day_wall_ratio_resident_over_fresh"] = round(summ["day_wall_s"]["resident"] / summ["day_wall_s"]["fresh"], 3)
    summ["day_stage_ratio_resident_over_fresh"] = round(
        summ["day_stage_total_s"]["resident"] / summ["day_stage_total_s"]["fresh"], 3)
    drops = [d for s in result["resident"] for d in s.get("drops", [])]
    if not drops:
        return summ
    summ["article_to_cluster_s"] = {"median": _median([d["to_cluster_s"] for d in drops]),
                                    "min": min(d["to_cluster_s"] for d in drops),
                                    "max": max(d["to_cluster_s"] for d in drops), "n": len(drops)}
    parts = {"watch+debounce+new flow run (rename -> flow run start)": [d["to_flow_run_start_s"] for d in drops],
             "engine + first tasks (flow run start -> run record)": [
                 d["to_run_record_s"] - d["to_flow_run_start_s"] for d in drops if d["to_flow_run_start_s"]]}
    for k in STAGES:
        vals = [d["timings"].get(k) for d in drops if d["timings"].get(k) is not None]
        if vals:
            parts[k] = vals
    summ["article_parts_median_s"] = {k: _median(v) for k, v in parts.items()}
    summ["article_latency_ok_5s"] = summ["article_to_cluster_s"]["median"] <= 5.0
    fd = [d for s in result["resident"] for d in s.get("fresh_drops", [])]
    if fd:
        summ["fresh_article_to_cluster_s"] = _median([d["to_cluster_s"] for d in fd])
        summ["fresh_article_wall_s"] = _median([d["wall_s"] for d in fd])
    after = [s["drop_after_run_elsewhere"] for s in result["resident"] if s.get("drop_after_run_elsewhere")]
    if after:
        summ["article_after_run_elsewhere_to_cluster_s"] = _median([d["to_cluster_s"] for d in after])
    summ["resident_memory_pss_mb"] = {"idle_after_warm": _median([s["idle_pss_mb"] for s in result["resident"]]),
                                      "peak_day": _median([r["peak_pss_mb"] for r in res]),
                                      "fresh_day_peak": _median([f["peak_pss_mb"] for f in fresh])}
    return summ


def report(result: dict) -> None:
    s = result["summary"]
    rows = [{"run": "last day, fresh process", **{"wall_s": f["wall_s"], **{k: f["timings"].get(k) for k in STAGES}}}
            for f in result["fresh_day"]]
    rows += [{"run": "last day, resident", **{"wall_s": r["day"]["wall_s"], **{k: r["day"]["timings"].get(k) for k in STAGES}}}
             for r in result["resident"]]
    cols = ["run", "wall_s", "read_analyze", "reuse_prepare_index", "reuse_index_commit", "reuse_rarity",
            "reuse_align", "cluster", "claim_events", "passages", "total"]
    print(fmt_table(rows, cols))
    print(json.dumps(s, ensure_ascii=False, indent=2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=None, help="folder for the data and the snapshot (default: a temp folder)")
    ap.add_argument("--snapshot", default=None, help="home holding the base ingest (made when missing)")
    ap.add_argument("--drops", type=int, default=10)
    ap.add_argument("--fresh-drops", type=int, default=3)
    ap.add_argument("--debounce", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=1, help="fresh/resident day runs, alternated")
    ap.add_argument("--tmp", default=None, help="parent folder of the homes copied from the snapshot")
    ap.add_argument("--full-run", action="store_true",
                    help="also time a fresh-process run of the whole corpus (the full-run denominator)")
    ap.add_argument("--label", default=None)
    ap.add_argument("--report", default=None, metavar="JSON", help="only print an earlier result")
    args = ap.parse_args(argv)
    if args.report:
        report(json.loads(Path(args.report).read_text(encoding="utf-8")))
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="nd-live-work-"))
    base, day, last = prepare_data(work)
    snapshot = Path(args.snapshot) if args.snapshot else work / "snapshot"
    result: dict = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code_fingerprint(),
                    "last_day": last, "load_average_start": os.getloadavg(), "debounce_s": args.debounce,
                    "fresh_day": [], "resident": []}
    if not snapshot.exists():
        print(f"[base] ingesting every day before {last} into {snapshot}", flush=True)
        result["base"] = make_snapshot(snapshot, base)
    if args.full_run:
        print("[full] the whole corpus in one fresh run", flush=True)
        result["full_run"] = full_run(base, day, args)
    for i in range(args.repeat):
        result["fresh_day"].append(fresh_day(snapshot, day, args))
        sub = argparse.Namespace(**{**vars(args), "drops": args.drops if i == 0 else 0,
                                    "fresh_drops": args.fresh_drops if i == 0 else 0})
        result["resident"].append(resident_session(snapshot, base, day, sub))
    result["load_average_end"] = os.getloadavg()
    result["summary"] = summarize(result)
    name = f"live_{args.label}.json" if args.label else "live.json"
    write_json(RESULTS / name, result)
    report(result)
    print(f"wrote {RESULTS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
