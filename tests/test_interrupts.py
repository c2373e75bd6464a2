"""The Ctrl-C handler of newsdedup/interrupts.py, with real SIGINTs to this process."""

from __future__ import annotations

import os
import signal
import time

import pytest

from newsdedup import interrupts


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at its next bytecode


def test_a_press_raises_and_is_remembered_until_the_next_install():
    previous = interrupts.install()
    try:
        assert not interrupts.pressed()
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
        assert interrupts.pressed()
        with pytest.raises(KeyboardInterrupt):  # lost on the way: the next checkpoint raises it again
            interrupts.checkpoint()
        interrupts.install()
        assert not interrupts.pressed()
        interrupts.checkpoint()
    finally:
        interrupts.restore(previous)


def test_inside_deferred_a_press_is_recorded_not_raised_and_completion_is_reported():
    previous = interrupts.install()
    try:
        with interrupts.deferred():
            _ctrl_c()
            interrupts.note_completed("run-1")
        assert interrupts.pressed() and interrupts.completed_run() == "run-1"
        assert interrupts.after_completion() == ("newsdedup: interrupted after run run-1 had completed; "
                                                 "its results are complete")
        with pytest.raises(KeyboardInterrupt):  # outside the block it raises again
            _ctrl_c()
    finally:
        interrupts.restore(previous)
    assert signal.getsignal(signal.SIGINT) is previous
    assert not interrupts.pressed()
    interrupts.checkpoint()  # a later flow run in this process meets no press of this test
