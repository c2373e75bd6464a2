"""fork_map: same results as a plain loop, in order, also when called from several threads."""

from __future__ import annotations

import threading

from newsdedup.tasks.parallel import fork_map, shared


def _scaled(chunk):
    return [x * shared["factor"] for x in chunk]


def test_fork_map_matches_a_loop_and_keeps_order():
    items = list(range(1000))
    parts = fork_map(_scaled, items, workers=2, chunk_size=37, state={"factor": 3})
    assert [x for p in parts for x in p] == [x * 3 for x in items]
    assert shared == {}


def test_concurrent_callers_do_not_mix_their_state():
    results = {}

    def run(k):
        parts = fork_map(_scaled, list(range(200)), workers=2, chunk_size=50, state={"factor": k})
        results[k] = [x for p in parts for x in p]

    threads = [threading.Thread(target=run, args=(k,)) for k in (2, 5, 7)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    for k in (2, 5, 7):
        assert results[k] == [x * k for x in range(200)]
