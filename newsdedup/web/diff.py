"""Word-level comparison of two passages for the side-by-side view.

Both texts are compared as sequences of *normalized* words (the same folding the
matcher uses, :mod:`newsdedup.tasks.normalize`), so an alef with hamza or a
diacritic does not count as a change, while what is shown is the text as
received: every word is mapped back through the normalizer's offset map.
rapidfuzz's Indel opcodes over the word lists (the longest common subsequence of
words: as many shared words as there can be) give the shared runs and the
differences; a short run dropped right where a short run was added (up to
:data:`CHANGED_MAX` words each) is a change of wording, longer runs are words
dropped and words added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import Indel

from ..tasks.normalize import normalize, token_spans

CHANGED_MAX = 4  # words on each side of a dropped+added pair still read as one changed wording


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


def _runs(lw: list[str], rw: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Shared runs (``equal``) and the gaps between them (``gap``: words dropped on the left, added on the
    right), as ``(tag, left start, left end, right start, right end)``.

    A shared run of one or two words between two longer gaps (an «في» or «على» the longest common
    subsequence found inside two different sentences) is no shared text for a reader: it is folded into
    the gaps around it, as diff tools' semantic clean-up does."""
    runs: list[list] = []
    for op in Indel.opcodes(lw, rw):
        tag = "equal" if op.tag == "equal" else "gap"
        if runs and runs[-1][0] == tag == "gap":
            runs[-1][2], runs[-1][4] = op.src_end, op.dest_end
        else:
            runs.append([tag, op.src_start, op.src_end, op.dest_start, op.dest_end])
    size = lambda r: max(r[2] - r[1], r[4] - r[3])  # noqa: E731
    changed = True
    while changed:
        changed = False
        for k in range(1, len(runs) - 1):
            eq, before, after = runs[k], runs[k - 1], runs[k + 1]
            if eq[0] == "equal" and before[0] == after[0] == "gap" and size(eq) <= 2 \
                    and size(eq) < size(before) and size(eq) < size(after):
                runs[k - 1:k + 2] = [["gap", before[1], after[2], before[3], after[4]]]
                changed = True
                break
    return [tuple(r) for r in runs]


def word_diff(left: str, right: str) -> WordDiff:
    """How ``right`` differs from ``left`` word by word (``left`` is the reference, e.g. first seen)."""
    lw, ls = _words(left)
    rw, rs = _words(right)
    lk = ["plain"] * len(lw)
    rk = ["plain"] * len(rw)
    counts = {"dropped": 0, "added": 0, "changed": 0}
    shared = 0
    for tag, l0, l1, r0, r1 in _runs(lw, rw):
        if tag == "equal":
            shared += l1 - l0
            lk[l0:l1] = ["shared"] * (l1 - l0)
            rk[r0:r1] = ["shared"] * (r1 - r0)
            continue
        nl, nr = l1 - l0, r1 - r0
        changed = 0 < nl <= CHANGED_MAX and 0 < nr <= CHANGED_MAX
        lk[l0:l1] = ["changed" if changed else "dropped"] * nl
        rk[r0:r1] = ["changed" if changed else "added"] * nr
        if changed:
            counts["changed"] += max(nl, nr)
        else:
            counts["dropped"] += nl
            counts["added"] += nr
    return WordDiff(_pieces(left, ls, lk), _pieces(right, rs, rk), len(lw), len(rw), shared, counts)
