"""Test inputs for a claim spreading across outlets: one attributed passage, reprinted by outlet after outlet.

Each article is the same passage (it names its source, so the claim has an attribution) between
paragraphs of its own, taken from different places of the bundled seeds so that only the passage
is shared. Written as one JSONL record per file, the way a feed drops articles into an inbox.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SEEDS

SOURCE = "رويترز"
_SEED_TEXT = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def _paragraph(k: int, size: int = 420) -> str:
    """A stretch of seed text no other article of these tests uses (the k-th piece of two seeds that share
    nothing with the passage's seed)."""
    pieces = [t[i:i + size] for t in _SEED_TEXT[3:] for i in range(size, len(t) - size, size * 2)]
    return pieces[k % len(pieces)].strip()


PASSAGE = ("ونقلت وكالة رويترز عن مصادر دبلوماسية أن " + _SEED_TEXT[1][300:1100].replace("\n", " ").strip())


def article(k: int, outlet: str, published: str) -> dict:
    """The ``k``-th reprint, by ``outlet`` on ``published`` (own paragraphs before and after the passage)."""
    text = f"{_paragraph(2 * k)}\n\n{PASSAGE}\n\n{_paragraph(2 * k + 1)}"
    return {"id": f"spread-{k}", "outlet": outlet, "published": published, "title": f"تقرير {k}", "text": text}


def write_article(folder: Path, k: int, outlet: str, published: str) -> Path:
    """Write the ``k``-th reprint as ``folder/spread-<k>.jsonl`` (written whole, then renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"spread-{k}.jsonl"
    tmp = folder / f".spread-{k}.jsonl.part"
    tmp.write_text(json.dumps(article(k, outlet, published), ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
