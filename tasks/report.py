"""What a run found, for its ``top-claims`` artifact: the claims it added or spread, then the top.

The artifact listed the database's widest clusters after every run, the same ones day after day,
so a monitor could not see what the day brought. A run's clusters (those its matches created or
changed) are sorted here by what happened to them: *new* (all members from this run), *spread*
(this run's documents brought outlets the claim did not have), *grew* (more members, same outlets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

_ORDER = {"new": 0, "spread": 1, "grew": 2}


def run_claims(clusters: Iterable[Mapping[str, Any]], fresh: set[str], limit: int = 10) -> list[dict]:
    """The run's clusters seen in at least two outlets, as ``{cluster, change, new_outlets}``: new and
    spread ones first, then by outlets, members and id."""
    out = []
    for c in clusters:
        members = c.get("members") or ()
        old = {m.get("outlet") for m in members if m["doc_id"] not in fresh}
        new = {m.get("outlet") for m in members if m["doc_id"] in fresh}
        if not (c.get("n_outlets") or 0) >= 2:
            continue
        if not any(m["doc_id"] not in fresh for m in members):
            change = "new"
        elif new - old:
            change = "spread"
        else:
            change = "grew"
        out.append({"cluster": c, "change": change, "new_outlets": sorted(o for o in new - old if o)})
    out.sort(key=lambda r: (_ORDER[r["change"]], -(r["cluster"].get("n_outlets") or 0),
                            -(r["cluster"].get("size") or 0), r["cluster"].get("cluster_id") or ""))
    return out[:limit]


def _claim_lines(c: Mapping[str, Any], head: str, link: Callable[[str], str] | None) -> list[str]:
    fs = c.get("first_seen") or {}
    rep = (c.get("representative") or "").replace("\n", " ")
    if len(rep) > 240:
        rep = rep[:240] + "…"
    return [head, f"> {rep}", "",
            f"- outlets: {', '.join(o or '(unknown)' for o in c.get('outlets') or [])}",
            f"- first seen: {fs.get('outlet') or '(unknown outlet)'} on {fs.get('published') or 'unknown date'}"
            f" (document `{fs.get('doc_id')}`)",
            f"- attribution: {c.get('attribution') or '—'}",
            *([f"- [open in the claim explorer]({link(c['cluster_id'])})"] if link and c.get("cluster_id") else []), ""]


def claims_markdown(run_id: str, found: Sequence[Mapping[str, Any]], top: Sequence[Mapping[str, Any]],
                    link: Callable[[str], str] | None = None) -> str:
    """The artifact: this run's new or spread claims, then the database's widest; each with a link to its
    page when ``link(cluster_id)`` gives one (the claim explorer)."""
    lines = [f"# Reused claims: run `{run_id}`", "", "## What this run added or spread", ""]
    if not found:
        lines += ["This run added no passage shared between outlets.", ""]
    for i, r in enumerate(found, 1):
        c = r["cluster"]
        what = {"new": "new claim", "spread": f"spread to {', '.join(r['new_outlets'])}", "grew": "more reprints"}
        lines += _claim_lines(c, f"### {i}. {what[r['change']]}: {c.get('n_outlets', 0)} outlets, "
                                 f"{c.get('size', 0)} passages", link)
    lines += ["## Top reused claims in the database", ""]
    if not top:
        lines.append("No passage is shared between documents yet.")
    for i, c in enumerate(top, 1):
        lines += _claim_lines(c, f"### {i}. {c.get('n_outlets', 0)} outlets, {c.get('size', 0)} passages", link)
    return "\n".join(lines)
