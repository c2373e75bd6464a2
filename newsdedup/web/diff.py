"""Word-level comparison of two passages for the side-by-side view.

Both texts are compared as sequences of *normalized* words (the same folding the
matcher uses, :mod:`newsdedup.tasks.normalize`), so an alef with hamza or a
diacritic does not count as a change, while what is shown is the text as
received: every word is mapped back through the normalizer's offset map.
rapidfuzz's Levenshtein opcodes over the word lists give the shared runs
(``equal``) and the differences: ``delete`` = words the other side dropped,
``insert`` = words it added, ``replace`` = words it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from ..tasks.normalize import normalize, token_spans

# Class of a piece of text on each side, by opcode tag.
LEFT_KIND = {"equal": "shared", "delete": "dropped", "replace": "changed"}
RIGHT_KIND = {"equal": "shared", "insert": "added", "replace": "changed"}


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    kind: str  # shared | dropped | added | changed | plain (between differently marked words)


@dataclass
class WordDiff:
    left: list[Piece]
    right: list[Piece]
    left_words: int
    right_words: int
    shared_words: int
    counts: dict[str, int] = field(default_factory=dict)  # words dropped / added / changed

    @property
    def shared_share(self) -> float:
        """Shared words over the longer side's words (1.0 = the same wording)."""
        n = max(self.left_words, self.right_words)
        return self.shared_words / n if n else 1.0


def _words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Normalized words of ``text`` with their spans in the text as received."""
    norm = normalize(text)
    words, spans = token_spans(norm.text)
    return words, [norm.span(s, e) for s, e in spans]


def _pieces(text: str, spans: list[tuple[int, int]], kinds: list[str]) -> list[Piece]:
    """Cut ``text`` into pieces: each word with its kind; the characters between two words take
    their kind when both have the same one (so a shared run is one highlighted stretch)."""
    out: list[Piece] = []

    def add(s: str, kind: str) -> None:
        if not s:
            return
        if out and out[-1].kind == kind:
            out[-1] = Piece(out[-1].text + s, kind)
        else:
            out.append(Piece(s, kind))

    pos = 0
    for i, (s, e) in enumerate(spans):
        gap_kind = kinds[i] if i and kinds[i - 1] == kinds[i] else "plain"
        add(text[pos:s], gap_kind)
        add(text[s:e], kinds[i])
        pos = e
    add(text[pos:], "plain")
    return out


def word_diff(left: str, right: str) -> WordDiff:
    """How ``right`` differs from ``left`` word by word (``left`` is the reference, e.g. first seen)."""
    lw, ls = _words(left)
    rw, rs = _words(right)
    lk = ["plain"] * len(lw)
    rk = ["plain"] * len(rw)
    counts = {"dropped": 0, "added": 0, "changed": 0}
    shared = 0
    for op in Levenshtein.opcodes(lw, rw):
        for i in range(op.src_start, op.src_end):
            lk[i] = LEFT_KIND[op.tag]
        for j in range(op.dest_start, op.dest_end):
            rk[j] = RIGHT_KIND[op.tag]
        if op.tag == "equal":
            shared += op.src_end - op.src_start
        elif op.tag == "delete":
            counts["dropped"] += op.src_end - op.src_start
        elif op.tag == "insert":
            counts["added"] += op.dest_end - op.dest_start
        else:
            counts["changed"] += max(op.src_end - op.src_start, op.dest_end - op.dest_start)
    return WordDiff(_pieces(left, ls, lk), _pieces(right, rs, rk), len(lw), len(rw), shared, counts)
