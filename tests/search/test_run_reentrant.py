"""``search.run()`` (or ``start()``) called while the same object's ``run()`` is in progress is refused.

Before, a ``run()`` from a callback ran a second loop inside the first: it ran the rest of the budget, stored
the search done, gave the lease back, and the outer run then counted the inner run's time again in
``elapsed_s`` (4 trials of 0.1 s: 0.66 s counted in 0.46 s). Now it raises NasbookError naming ``run()``
and saying why, before anything runs; in a callback ``stop()`` and ``extend()`` are the ways to change a run.
"""

from __future__ import annotations

import threading

import pytest

import nasbook
from nasbook._errors import NasbookError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)
NESTED = r"run\(\) was called from inside its own run\(\).*nothing was run"


def _search(path, callback, name="r"):
    return nasbook.Search(SPACE, ToyTask(SPACE), budget=4, seed=0, storage=path, name=name, callbacks=[callback])


def test_run_from_a_callback_of_its_own_run_is_refused_and_the_search_resumes(tmp_path):
    path = tmp_path / "r.db"

    def nested(search, trial):
        if trial.number == 1:
            search.run(progress="none")

    s = _search(path, nested)
    with pytest.raises(NasbookError, match=NESTED):
        s.run(progress="none")
    assert [t.number for t in s.trials] == [0, 1] and s.state.value == "interrupted"  # what finished is kept
    again = nasbook.load_search("r", path, task=ToyTask(SPACE)).run(progress="none")
    full = nasbook.Search(SPACE, ToyTask(SPACE), budget=4, seed=0, storage=":memory:").run(progress="none")
    assert [t.arch.id for t in again.trials] == [t.arch.id for t in full.trials] and again.state.value == "done"


def test_a_callback_that_catches_the_refusal_leaves_its_run_going(tmp_path):
    refused = []

    def nested(search, trial):
        try:
            search.run(progress="none")
        except NasbookError as exc:
            refused.append(str(exc))

    s = _search(tmp_path / "c.db", nested).run(progress="none")
    assert len(refused) == 4 and s.n_trials == 4 and s.state.value == "done"
    assert nasbook.load_search("r", tmp_path / "c.db", task=ToyTask(SPACE)).state.value == "done"


def test_run_from_a_callback_of_a_background_run_is_refused(tmp_path):
    def nested(search, trial):
        search.run(progress="none")

    s = _search(tmp_path / "b.db", nested)
    s.start(progress="none")
    with pytest.raises(NasbookError, match=NESTED):
        s.wait(timeout_s=60)
    assert s.n_trials == 1


def test_start_from_a_callback_of_a_foreground_run_is_refused(tmp_path):
    def starts(search, trial):
        search.start(progress="none")

    s = _search(tmp_path / "s.db", starts)
    with pytest.raises(NasbookError, match=r"start\(\) was called from inside its own run\(\)"):
        s.run(progress="none")
    assert s._thread is None and s.n_trials == 1  # no second runner was started


def test_run_from_another_thread_during_a_run_is_refused(tmp_path):
    errors: list[BaseException] = []

    def other_thread_runs(search, trial):
        if trial.number == 0:
            def target():
                try:
                    search.run(progress="none")
                except BaseException as exc:  # noqa: BLE001 - what the other thread's run() raised
                    errors.append(exc)

            t = threading.Thread(target=target)
            t.start()
            t.join(60)

    s = _search(tmp_path / "t.db", other_thread_runs).run(progress="none")
    assert s.n_trials == 4 and s.state.value == "done"
    (err,) = errors
    assert isinstance(err, NasbookError) and "run() was called from another thread while its run() is in progress" in str(err)
