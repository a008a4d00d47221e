"""A fake clock for the seconds a search's ``run()`` counts, moved only by the test's own task.

A seconds budget reads ``time.monotonic()`` in :mod:`nasbook.search._search`, and ``run()`` starts that
clock before its own set-up (the lease, replay, state and provenance writes, starting the executor). On a
loaded machine that set-up alone took longer than a short budget, which was then spent before the first
trial. With this clock only what the task adds counts, so a run's trials and ``elapsed_s`` are exact on any
machine.
"""

import time


class RunClock:
    """Stands in for the ``time`` module of :mod:`nasbook.search._search`: ``monotonic()`` returns
    :attr:`now`, which only :meth:`advance` moves; everything else is the real ``time``."""

    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def __getattr__(self, name):  # time.time, time.strftime, ... as they are
        return getattr(time, name)


def patch_run_clock(monkeypatch):
    """Make the seconds of every ``Search.run()`` in this test read a new :class:`RunClock`; returns it."""
    from nasbook.search import _search

    clock = RunClock()
    monkeypatch.setattr(_search, "time", clock)
    return clock
