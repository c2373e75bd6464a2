#!/usr/bin/env python3
"""Nested cross-validation of a choice between product runs of counter-dev (issue #17): is the retold-sentence
gate a run was made with a stable choice, or one fitted to the 300 labels?

usage: python bench/derivation_gate_cv.py NAME=DIR [NAME=DIR ...] [--repeats 10] [--folds 5] [--max-far N]

Each ``DIR`` holds the exports of one ``python bench/derivation.py --out DIR`` run made with other parameters of
:mod:`~newsdedup.tasks.rewrite` (the gate cannot be re-applied to exported rows: it decides which pairs get
retold-sentence matches at all). In every fold the run *and* the two thresholds of
:class:`~newsdedup.tasks.derivation.DerivationParams` are chosen on the training folds (macro-F1 + binary F1), and
the held-out fold is labelled with them. ``--max-far``: only runs whose far-apart pairs labelled derived (the
precision proxy of ``bench/derivation.py``) are at most N take part, so the choice cannot buy labels with
precision outside them. Prints the held-out scores, how often each run was chosen, and each run alone.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from derivation import DERIVED_GRID, WHOLLY_GRID, far_pairs, predict, scores, truth_rows  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="NAME=DIR: the exports of one bench/derivation.py run")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--max-far", type=int, default=None)
    args = ap.parse_args()
    runs, far = {}, {}
    for spec in args.runs:
        name, _, d = spec.partition("=")
        far[name] = far_pairs(Path(d))["labelled_derived"]
        if args.max_far is None or far[name] <= args.max_far:
            runs[name] = truth_rows(Path(d))
    names = sorted(runs)
    n = {len(r) for r in runs.values()}
    assert len(n) == 1, "the runs must score the same labelled pairs"
    n_pairs = n.pop()
    ths = [(d, w) for d in DERIVED_GRID for w in WHOLLY_GRID if w > d]

    def objective(name: str, idx: list[int], th: tuple[float, float]) -> float:
        s = scores([(runs[name][i][0], predict(runs[name][i][1], *th)) for i in idx])
        return s["macro_f1"] + s["binary_f1"]

    held, chosen = [], collections.Counter()
    for rep in range(args.repeats):
        idx = list(range(n_pairs))
        random.Random(rep).shuffle(idx)
        preds = []
        for k in range(args.folds):
            test = set(idx[k::args.folds])
            train = [i for i in idx if i not in test]
            # ties: the run named first, the thresholds nearest the middle of the grid (as bench/derivation.py)
            best = max(((nm, th) for nm in names for th in ths),
                       key=lambda c: (objective(c[0], train, c[1]), -names.index(c[0]),
                                      -abs(c[1][0] - 0.25), -abs(c[1][1] - 0.65)))
            chosen[best[0]] += 1
            preds += [(runs[best[0]][i][0], predict(runs[best[0]][i][1], *best[1])) for i in sorted(test)]
        held.append(scores(preds))

    def stat(key: str) -> str:
        xs = [h[key] for h in held]
        m = sum(xs) / len(xs)
        return f"{m:.4f} ± {(sum((x - m) ** 2 for x in xs) / len(xs)) ** 0.5:.4f}"

    print(f"runs (far-apart pairs labelled derived): {', '.join(f'{k} ({far[k]})' for k in sorted(far))}")
    print(f"taking part{' (max far ' + str(args.max_far) + ')' if args.max_far is not None else ''}: {names}")
    print(f"nested {args.repeats}x{args.folds}-fold held out: macro-F1 {stat('macro_f1')}, binary F1 {stat('binary_f1')}")
    print("run chosen on the training folds:", dict(chosen.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
