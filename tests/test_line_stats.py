"""Per-outlet line counts saved next to the index: used only when they provably cover every stored document."""

from __future__ import annotations

from collections import Counter

from newsdedup.tasks.line_stats import LineStats, merged

ROWS = [("a", 0, ["k1", "k2"]), ("a", 1, ["k1"]), ("b", 2, ["k1", "k3"]), (None, 3, ["k9"])]


def _rows(rows):
    """What ``Store.line_key_rows`` gives: every document's row, or those stored after ``seq``."""
    def read(seq):
        return iter([r for r in rows if seq is None or (r[1] is not None and r[1] > seq)])
    return read


def test_counts_per_outlet():
    st = LineStats()
    assert st.add_all(ROWS) == 4
    assert st.n_docs == 4 and st.max_seq == 3
    assert st.outlets["a"] == (2, Counter({"k1": 2, "k2": 1}))
    assert st.of(["b", "zz"]) == {"b": (1, Counter({"k1": 1, "k3": 1})), "zz": (0, Counter())}


def test_saved_counts_are_extended_with_later_documents(tmp_path):
    path = tmp_path / "line_stats.pkl"
    st = LineStats()
    st.add_all(ROWS[:2])
    st.save(path, "T1")
    got, reused = LineStats.current(path, "T1", _rows(ROWS), len(ROWS))
    assert reused
    full = LineStats()
    full.add_all(ROWS)
    assert got.outlets == full.outlets and got.n_docs == 4 and got.max_seq == 3


def test_saved_counts_are_not_trusted_unless_they_cover_every_document(tmp_path):
    path = tmp_path / "line_stats.pkl"
    st = LineStats()
    st.add_all(ROWS[:2])
    st.save(path, "T1")
    full = LineStats()
    full.add_all(ROWS)
    # another token in the database (another run saved since, or a different database)
    got, reused = LineStats.current(path, "T2", _rows(ROWS), len(ROWS))
    assert not reused and got.outlets == full.outlets
    # no token: never trusted
    assert LineStats.current(path, None, _rows(ROWS), len(ROWS))[1] is False
    # a document stored by a concurrent run with a smaller ingest_seq than the file covers:
    # the file + the later documents are one short of the database's total, so everything is read again
    late = ("b", 0, ["k7"])
    rows = ROWS + [late]
    got, reused = LineStats.current(path, "T1", _rows(rows), len(rows))
    assert not reused and got.n_docs == 5 and got.outlets["b"][1]["k7"] == 1
    # unreadable file
    path.write_bytes(b"garbage")
    assert LineStats.current(path, "T1", _rows(ROWS), len(ROWS))[1] is False


def test_merged_adds_the_run_without_touching_the_stored_counts():
    st = LineStats()
    st.add_all(ROWS)
    run = {"a": (1, Counter({"k1": 1, "new": 1})), "c": (1, Counter({"x": 1}))}
    out = merged(st.of(run), run)
    assert out == {"a": (3, {"k1": 3, "k2": 1, "new": 1}), "c": (1, {"x": 1})}
    assert st.outlets["a"] == (2, Counter({"k1": 2, "k2": 1}))
