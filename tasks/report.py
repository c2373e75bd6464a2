"""Human-readable summaries of a run's results (the Prefect ``top-claims`` artifact)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["top_claims_markdown"]


def top_claims_markdown(top: Sequence[Mapping[str, Any]], run_id: str,
                        link: Callable[[str], str] | None = None) -> str:
    """Markdown for the widest clusters: spread, representative text, outlets, first seen, attribution,
    and a link to each claim's page when ``link(cluster_id)`` gives one (the claim explorer)."""
    lines = [f"# Top reused claims after run `{run_id}`", ""]
    if not top:
        lines.append("No passage is shared between documents yet.")
    for i, c in enumerate(top, 1):
        fs = c.get("first_seen") or {}
        rep = (c.get("representative") or "").replace("\n", " ")
        if len(rep) > 240:
            rep = rep[:240] + "…"
        lines += [f"## {i}. {c.get('n_outlets', 0)} outlets, {c.get('size', 0)} passages",
                  f"> {rep}", "",
                  f"- outlets: {', '.join(o or '(unknown)' for o in c.get('outlets') or [])}",
                  f"- first seen: {fs.get('outlet') or '(unknown outlet)'} on {fs.get('published') or 'unknown date'}"
                  f" (document `{fs.get('doc_id')}`)",
                  f"- attribution: {c.get('attribution') or '—'}",
                  *([f"- [open in the claim explorer]({link(c['cluster_id'])})"] if link else []), ""]
    return "\n".join(lines)
