#!/usr/bin/env python3
"""Document derivation on counter-dev (issue #17 part 4): the product end to end, then how stable its
thresholds are.

usage: python bench/derivation.py [--repeats 10] [--folds 5] [--out DIR] [--label NAME]

1. In a fresh ``NEWSDEDUP_HOME``: ``newsdedup run ../shared/bench/counter-dev/documents.jsonl``, export
   ``documents``, ``matches``, ``derivations`` and score them with the shared scorer
   (``../shared/bench/eval_derivation.py``): macro-F1 over wholly / partially / non, binary F1 (derived
   vs not), confusion table. This is the number in the README.
2. Cross-validation of the two thresholds (:class:`~newsdedup.tasks.derivation.DerivationParams`:
   ``derived``, ``wholly``) on the 300 labelled pairs, from the exported rows (each row's ``strength``
   and ``rare_words`` are what the label was decided from): ``--repeats`` random ``--folds``-fold splits;
   the thresholds are chosen on the training folds (grid, maximising macro-F1 + binary F1) and the
   held-out fold is labelled with them. Reports the mean and spread of the held-out scores and of the
   chosen thresholds, next to the shipped ones. Pairs without a row (no match at all) are ``non``
   whatever the thresholds: the scorer counts them so.
3. A precision proxy outside the labels: derivation rows of pairs the truth does not pair whose
   documents were published more than 7 days apart (almost always different stories in news), and the
   share of them labelled derived.

Writes ``bench/results/derivation.json`` (``derivation_<label>.json``). Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SHARED, FreshHome, cli, code_fingerprint, write_json  # noqa: E402

from newsdedup.tasks.derivation import DERIVATION_PARAMS  # noqa: E402

COUNTER = SHARED / "bench" / "counter-dev"
SCORER = SHARED / "bench" / "eval_derivation.py"
LABELS = ("wholly", "partially", "non")
DERIVED_GRID = [round(0.10 + 0.01 * k, 2) for k in range(31)]  # 0.10 … 0.40
WHOLLY_GRID = [round(0.40 + 0.02 * k, 2) for k in range(26)]  # 0.40 … 0.90


def _load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_product(out: Path) -> dict:
    """Ingest counter-dev into a fresh home, export, score with the shared scorer."""
    out.mkdir(parents=True, exist_ok=True)
    with FreshHome(prefix="nd-deriv-") as home:
        home.start_servers()
        run = cli(["run", str(COUNTER / "documents.jsonl"), "--db", "counter", "--json"], home.env)
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        for kind in ("documents", "matches", "derivations"):
            cli(["export", kind, "--db", "counter", "-o", str(out / f"{kind}.jsonl")], home.env)
    scored = subprocess.run([sys.executable, str(SCORER), str(COUNTER / "truth.jsonl"), str(out)],
                            capture_output=True, text=True, check=True)
    return {"summary_counts": summary["counts"], "timings": summary["timings"], "scorer": json.loads(scored.stdout)}


def truth_rows(out: Path) -> list[tuple[str, dict | None]]:
    """(gold label, the product's row for the pair or None) for every labelled pair."""
    docs = {d["external_id"]: d for d in _load(out / "documents.jsonl")}
    rows = {frozenset((r["a_external_id"], r["b_external_id"])): r for r in _load(out / "derivations.jsonl")}
    got = []
    for t in _load(COUNTER / "truth.jsonl"):
        srcs = t.get("sources") or [t["a"]]
        row = next((rows[frozenset((t["b"], s))] for s in srcs if frozenset((t["b"], s)) in rows), None)
        if t["b"] in docs:
            got.append((t["label"], row))
    return got


def predict(row: dict | None, derived: float, wholly: float) -> str:
    """The label :func:`~newsdedup.tasks.derivation.classify` gives a stored row under other thresholds."""
    if row is None:
        return "non"
    rare = row.get("rare_words")
    if row["strength"] < derived or (rare is not None and rare < DERIVATION_PARAMS.min_rare):
        return "non"
    if row.get("n_matches") and row.get("n_templates") == row.get("n_matches"):
        return "non"
    return "wholly" if row["strength"] >= wholly else "partially"


def scores(pairs: list[tuple[str, str]]) -> dict:
    conf = collections.Counter(pairs)
    f1 = {}
    for lab in LABELS:
        tp = conf[(lab, lab)]
        fp = sum(conf[(g, lab)] for g in LABELS if g != lab)
        fn = sum(conf[(lab, p)] for p in LABELS if p != lab)
        f1[lab] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    pos = {"wholly", "partially"}
    tp = sum(n for (g, p), n in conf.items() if g in pos and p in pos)
    fp = sum(n for (g, p), n in conf.items() if g not in pos and p in pos)
    fn = sum(n for (g, p), n in conf.items() if g in pos and p not in pos)
    return {"macro_f1": sum(f1.values()) / 3, "binary_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
            "f1": f1, "confusion": {f"{g}->{p}": n for (g, p), n in sorted(conf.items())}}


def best_thresholds(train: list[tuple[str, dict | None]]) -> tuple[float, float]:
    def objective(th: tuple[float, float]) -> tuple[float, float, float]:
        s = scores([(g, predict(r, *th)) for g, r in train])
        # ties: the thresholds nearest the middle of the grid (no drift to its edges)
        return (s["macro_f1"] + s["binary_f1"], -abs(th[0] - 0.25), -abs(th[1] - 0.65))
    return max(((d, w) for d in DERIVED_GRID for w in WHOLLY_GRID if w > d), key=objective)


def cross_validate(rows: list[tuple[str, dict | None]], folds: int, repeats: int) -> dict:
    held, chosen = [], []
    for rep in range(repeats):
        idx = list(range(len(rows)))
        random.Random(rep).shuffle(idx)
        preds: list[tuple[str, str]] = []
        for k in range(folds):
            test = set(idx[k::folds])
            th = best_thresholds([rows[i] for i in idx if i not in test])
            chosen.append(th)
            preds += [(rows[i][0], predict(rows[i][1], *th)) for i in sorted(test)]
        held.append(scores(preds))

    def stats(xs: list[float]) -> dict:
        m = sum(xs) / len(xs)
        return {"mean": round(m, 4), "sd": round((sum((x - m) ** 2 for x in xs) / len(xs)) ** 0.5, 4),
                "min": round(min(xs), 4), "max": round(max(xs), 4)}

    return {"folds": folds, "repeats": repeats,
            "held_out_macro_f1": stats([h["macro_f1"] for h in held]),
            "held_out_binary_f1": stats([h["binary_f1"] for h in held]),
            "chosen_derived": stats([t[0] for t in chosen]), "chosen_wholly": stats([t[1] for t in chosen]),
            "chosen_most_often": collections.Counter(f"{d:.2f}/{w:.2f}" for d, w in chosen).most_common(5)}


def separation(out: Path) -> dict:
    """ROC AUC, derived vs non-derived labelled pairs that have a row, of each measure of the derived
    side (the truth's ``b``): words shared, copied coverage, coverage by every match, strength."""
    docs = {d["external_id"]: d["doc_id"] for d in _load(out / "documents.jsonl")}
    rows = {frozenset((r["a_external_id"], r["b_external_id"])): r for r in _load(out / "derivations.jsonl")}
    vals: dict[str, list[tuple[bool, float]]] = collections.defaultdict(list)
    for t in _load(COUNTER / "truth.jsonl"):
        r = next((rows[frozenset((t["b"], s))] for s in t.get("sources") or [t["a"]]
                  if frozenset((t["b"], s)) in rows), None)
        if r is None:
            continue
        side = "a" if r["a_doc_id"] == docs.get(t["b"]) else "b"
        derived = t["label"] != "non"
        for name, key in (("words_shared", f"{side}_words"), ("copied_coverage", f"{side}_copied"),
                          ("coverage", f"{side}_coverage"), ("strength", "strength")):
            if r.get(key) is not None:
                vals[name].append((derived, float(r[key])))

    def auc(xs: list[tuple[bool, float]]) -> float | None:
        pos = [v for d, v in xs if d]
        neg = [v for d, v in xs if not d]
        if not pos or not neg:
            return None
        return round(sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg)), 4)

    return {name: {"pairs": len(xs), "auc_derived_vs_non": auc(xs)} for name, xs in sorted(vals.items())}


def far_pairs(out: Path) -> dict:
    """Rows of unlabelled pairs published more than a week apart (a proxy for different stories)."""
    docs = {d["doc_id"]: d for d in _load(out / "documents.jsonl")}
    truth = {frozenset((t["b"], s)) for t in _load(COUNTER / "truth.jsonl") for s in t.get("sources") or [t["a"]]}

    def days(a: str | None, b: str | None) -> int | None:
        if not a or not b:
            return None
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)

    far = [r for r in _load(out / "derivations.jsonl")
           if frozenset((r["a_external_id"], r["b_external_id"])) not in truth
           and (days(docs[r["a_doc_id"]].get("published"), docs[r["b_doc_id"]].get("published")) or 0) > 7]
    derived = [r for r in far if r["derivation"] != "non"]
    return {"rows": len(far), "labelled_derived": len(derived),
            "share_derived": round(len(derived) / len(far), 4) if far else None,
            "derived_by_methods": collections.Counter("+".join(r["methods"]) for r in derived).most_common(8)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", default=None, help="keep the exports in DIR (default: a temporary folder)")
    ap.add_argument("--label", default=None)
    args = ap.parse_args()
    tmp = None if args.out else tempfile.TemporaryDirectory(prefix="nd-deriv-export-")
    out = Path(args.out) if args.out else Path(tmp.name)
    product = run_product(out)
    rows = truth_rows(out)
    shipped = scores([(g, predict(r, DERIVATION_PARAMS.derived, DERIVATION_PARAMS.wholly)) for g, r in rows])
    result = {
        "command": "python bench/derivation.py" + (f" --label {args.label}" if args.label else ""),
        "code": code_fingerprint(),
        "scorer": product["scorer"],
        "run_counts": product["summary_counts"], "run_timings": product["timings"],
        "shipped_thresholds": {"derived": DERIVATION_PARAMS.derived, "wholly": DERIVATION_PARAMS.wholly,
                               "min_rare": DERIVATION_PARAMS.min_rare},
        "shipped_recomputed": {k: round(v, 4) if isinstance(v, float) else v for k, v in shipped.items()},
        "pairs_without_a_row": collections.Counter(g for g, r in rows if r is None),
        "cross_validation": cross_validate(rows, args.folds, args.repeats),
        "separation": separation(out),
        "far_pairs": far_pairs(out),
    }
    name = f"derivation_{args.label}.json" if args.label else "derivation.json"
    write_json(RESULTS / name, result)
    s = product["scorer"]
    cv = result["cross_validation"]
    print(f"counter-dev: macro-F1 {s['macro_f1']}, binary F1 {s['binary']['f1']} "
          f"(precision {s['binary']['precision']}, recall {s['binary']['recall']})")
    print("confusion:", s["confusion"])
    print(f"cross-validated ({cv['repeats']}x{cv['folds']}-fold): macro-F1 {cv['held_out_macro_f1']['mean']} "
          f"± {cv['held_out_macro_f1']['sd']}, binary F1 {cv['held_out_binary_f1']['mean']} ± "
          f"{cv['held_out_binary_f1']['sd']}; thresholds derived {cv['chosen_derived']}, wholly {cv['chosen_wholly']}")
    print("separation (ROC AUC, labelled pairs with a row):", result["separation"])
    print("pairs a week or more apart:", result["far_pairs"])
    print(f"wrote {RESULTS / name}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
