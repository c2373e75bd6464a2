"""How right ``first_seen`` is on an ingested database (issue #15, point 5).

For every cluster seen in at least two outlets: is its ``first_seen`` member the earliest one by
the input's own timestamps (``published_raw``, read to the second)? And for one outlet (default
``was``, the Saudi Press Agency, the origin of most wire copy in SaudiNewsNet): in how many of its
cross-outlet clusters is it first seen?

    python bench/first_seen.py --db saudi_before --label before
    python bench/first_seen.py --db saudi --label after

Reads the database named by ``--db`` in ``NEWSDEDUP_HOME`` (or ``MONGODB_URI``) through
``newsdedup db uri``; writes ``bench/results/first_seen.json`` (one entry per label).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pymongo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, code_fingerprint, write_json  # noqa: E402

from newsdedup.tasks.dates import parse_date, published_key  # noqa: E402


def measure(db, outlet: str, widest: int) -> dict:
    raw: dict[str, str | None] = {}
    for d in db.documents.find({}, {"_id": 1, "published_raw": 1, "published": 1}):
        raw[d["_id"]] = parse_date(d.get("published_raw")) if d.get("published_raw") else d.get("published")
    clusters = list(db.clusters.find({"n_outlets": {"$gte": 2}},
                                     {"_id": 1, "n_outlets": 1, "size": 1, "first_seen": 1, "outlets": 1,
                                      "members.doc_id": 1, "members.outlet": 1}))
    clusters.sort(key=lambda c: (-c["n_outlets"], -c["size"], c["_id"]))

    def earlier_exists(c: dict) -> bool:
        fs = published_key(raw.get(c["first_seen"]["doc_id"]))
        return any(published_key(raw.get(m["doc_id"])) < fs for m in c.get("members") or ())

    with_outlet = [c for c in clusters if outlet in (c.get("outlets") or ())]
    first = [c for c in with_outlet if (c.get("first_seen") or {}).get("outlet") == outlet]
    # where the outlet has the earliest timestamp of the cluster, by the input's own times
    earliest = []
    for c in with_outlet:
        best = min((published_key(raw.get(m["doc_id"])), m["outlet"] or "") for m in c.get("members") or ())
        if best[1] == outlet:
            earliest.append(c)
    top = clusters[:widest]
    return {
        "clusters_cross_outlet": len(clusters),
        "clusters_with_an_earlier_member": sum(earlier_exists(c) for c in clusters),
        f"widest_{widest}_with_an_earlier_member": sum(earlier_exists(c) for c in top),
        f"{outlet}_cross_outlet_clusters": len(with_outlet),
        f"{outlet}_first_seen": len(first),
        f"{outlet}_earliest_by_timestamp": len(earliest),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="database name")
    ap.add_argument("--label", required=True, help="name of this measurement in the results file")
    ap.add_argument("--outlet", default="was", help="outlet whose first-seen share is counted (default was)")
    ap.add_argument("--widest", type=int, default=30, help="how many of the widest clusters to check (default 30)")
    ap.add_argument("--out", type=Path, default=RESULTS / "first_seen.json")
    args = ap.parse_args()
    uri = subprocess.check_output(["newsdedup", "db", "uri", "--db", args.db], text=True).strip()
    client = pymongo.MongoClient(uri)
    t0 = time.monotonic()
    got = measure(client.get_default_database(), args.outlet, args.widest)
    got["seconds"] = round(time.monotonic() - t0, 1)
    got["db"] = args.db
    got["code"] = code_fingerprint()
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.label] = got
    write_json(args.out, results)
    print(json.dumps({args.label: got}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
