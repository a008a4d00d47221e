"""A dask trial stopped by ``trial_timeout_s`` that never reports kept its worker's thread (dask cannot stop a
thread): on a 1-thread worker every later trial waited behind it and FAILED "timed out" too, until the hung
function returned. nasbook now restarts a worker that only the hung trial holds, through its nanny, before the
next submit; a worker it cannot restart (no nanny) is named in a warning (h-execdur (d))."""

import sys
import time
from pathlib import Path

import cloudpickle
import pytest

import nasbook
from nasbook._errors import NasbookWarning
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

distributed = pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)


class Hangs(ToyTask):
    """The architecture ``victim`` hangs without reporting until ``release`` exists (at most 120 s); when its hang
    ends it writes ``release`` + ".returned" (a worker restarted under it never does)."""

    def __init__(self, space, victim, release, **kw):
        super().__init__(space, **kw)
        self.victim, self.release = victim, str(release)

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        deadline = time.monotonic() + 120
        while arch.id == self.victim and not Path(self.release).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if arch.id == self.victim:
            Path(self.release + ".returned").touch()
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def _victim():
    return nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=":memory:").run(progress="none").trials[0].arch.id


@pytest.mark.slow  # ~14 s: a process cluster, and a worker restart that waits 4 s for the hung thread (4 s limit: a
# restarted worker imports nasbook before its first trial, which under load took more than 1.5 s)
def test_a_hung_trial_past_its_timeout_frees_its_one_thread_worker_for_the_next_trials(tmp_path):
    task = Hangs(SPACE, _victim(), tmp_path / "never")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
        s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=":memory:", executor=cluster, trial_timeout_s=4)
        s.run(progress="none")
        returned = Path(f"{task.release}.returned").exists()  # the hung function ended before the search did
        hung = getattr(s.executor, "_hung", None)  # (the old code had none)
        restarted = [] if hung is None else list(hung.restarted)
        s.close()
        assert cluster.status.name == "running" and len(cluster.scheduler_info["workers"]) == 1  # the user's: kept
    # the old code: ['failed', 'failed', 'failed'], the two later trials queued behind the hung thread
    assert [t.state for t in s.trials] == [TrialState.FAILED, TrialState.COMPLETE, TrialState.COMPLETE]
    assert "timed out after 4 s (trial_timeout_s)" in s.trials[0].reason
    assert len(restarted) == 1
    assert not returned  # the search went on without waiting for the hung function (its 120 s)


def test_a_worker_without_a_nanny_is_named_in_a_warning(tmp_path):
    release = tmp_path / "release"
    task = Hangs(SPACE, _victim(), release)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0",
                                  silence_logs=50) as cluster:
        try:
            s = nasbook.Search(SPACE, task, budget=2, seed=0, storage=":memory:", executor=cluster, trial_timeout_s=2.0)
            with pytest.warns(NasbookWarning, match=r"^trial 0 timed out \(trial_timeout_s\) but still runs on dask worker "
                                                    r"\S+, which was not restarted \(it has no nanny \(processes=False\)"):
                s.run(progress="none")
        finally:
            release.touch()  # the hung thread returns: the in-process worker closes
        s.close()
    assert s.trials[0].state is TrialState.FAILED and s.executor._hung.restarted == []
