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


_HALF_BORN = r'''
import os, signal, sys, time
from newsdedup.tasks.parallel import fork_map

class Raised(Exception):
    pass

def handler(sig, frame):  # like Prefect's: raise in whatever code the signal interrupts
    raise Raised(sig)

signal.signal(signal.SIGTERM, handler)
# a slow at-fork handler in the child (pymongo's resets its clients there) widens the window in
# which a child has been forked but not yet initialised
os.register_at_fork(after_in_child=lambda: time.sleep(0.2))

def double(chunk):
    return [x * 2 for x in chunk]

def failing(chunk):
    raise ValueError("bad chunk")

for i in range(12):
    assert fork_map(double, list(range(4)), workers=2, chunk_size=1) == [[0], [2], [4], [6]]
    try:
        fork_map(failing, list(range(4)), workers=2, chunk_size=1)
    except ValueError:
        pass
print("ok")
'''


def test_fork_map_never_hangs_on_a_child_stopped_while_it_starts(tmp_path):
    """A run hung for good when the pool was terminated while its second child was still being born:
    the SIGTERM ran the parent's raising handler inside the child's at-fork code, the exception was
    swallowed, and the child waited forever for work (and the parent for the child). Both the normal
    end and the error path of a chunk that raises (both close the pool, no signal) must finish, however slow the children are
    to start."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _HALF_BORN], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
