"""A dask worker that dies mid-trial (SIGKILL, out of memory) on a real LocalCluster (worker processes):
the trial is recorded with what happened to each worker, the search goes on, and resuming it loses
and repeats nothing. The stored record says what ran (the cluster, and how many trials at once)."""

import json
import os
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import nasbook
from nasbook.executors import DaskExecutor
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _first_ids(n):
    """The architectures random search (seed 0) proposes first: what the search below trains, in order."""
    s = nasbook.Search(SPACE, ToyTask(SPACE), strategy="random", budget=n, seed=0, storage=":memory:").run(progress="none")
    return [t.arch.id for t in s.trials]


class KillsItsWorker(ToyTask):
    """Kills the worker process that trains one of ``victims`` (SIGKILL: nothing can be reported)."""

    def __init__(self, space, victims, once_in=None, **kw):
        super().__init__(space, **kw)
        self.victims = tuple(victims)
        self.once_in = once_in  # a folder: kill only the first attempt (a marker file says it was made)

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        if arch.id in self.victims:
            marker = Path(self.once_in, arch.id) if self.once_in else None
            if marker is None or not marker.exists():
                if marker is not None:
                    marker.touch()
                time.sleep(0.1)
                os.kill(os.getpid(), signal.SIGKILL)
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def _config(path, name):
    with sqlite3.connect(path) as conn:
        return json.loads(conn.execute("SELECT config FROM nasbook_searches WHERE name = ?", (name,)).fetchone()[0])


def test_a_trial_that_kills_its_worker_fails_naming_the_workers_and_resume_repeats_nothing(tmp_path):
    path = tmp_path / "kw.db"
    ids = _first_ids(3)
    task = KillsItsWorker(SPACE, victims=ids[2:], epochs=3, epoch_s=0.1)  # the last trial: none waits behind it
    with DaskExecutor(n_workers=2, allowed_failures=1) as ex:
        s = nasbook.Search(SPACE, task, strategy="random", budget=3, seed=0, storage=path, name="kw", executor=ex)
        s.run(progress="none")
    assert [t.arch.id for t in s.trials] == ids
    dead = s.trials[2]
    assert [t.state for t in s.trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAILED]
    assert dead.reason.startswith("its worker died 2 times while running it") and "KilledWorker" in dead.reason
    assert dead.attrs["attempts"] == 2
    lost = dead.attrs["worker_deaths"].split("; ")
    assert len(lost) == 2 and all(w.startswith("tls://127.0.0.1:") and "died (its process was killed" in w for w in lost)
    assert all(w.split()[0] in dead.reason for w in lost)
    # what the store, the results and a resumed search say
    loaded = nasbook.load_search("kw", path, task=task)
    assert [(t.number, t.state, t.reason) for t in loaded.trials] == [(t.number, t.state, t.reason) for t in s.trials]
    df = loaded.to_dataframe()
    assert df.loc[2, "worker_deaths"] == dead.attrs["worker_deaths"] and df.loc[2, "attempts"] == 2
    with DaskExecutor(n_workers=2) as ex:
        again = nasbook.load_search("kw", path, task=ToyTask(SPACE), allow_changes=True, executor=ex)
        again.extend(2).run(progress="none")
    assert [t.number for t in again.trials] == [0, 1, 2, 3, 4]
    assert again.trials[2].state is TrialState.FAILED and again.trials[2].reason == dead.reason
    assert len({t.arch.id for t in again.trials}) == 5
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT number, state FROM nasbook_trials ORDER BY number").fetchall() == [
            (0, "complete"), (1, "complete"), (2, "failed"), (3, "complete"), (4, "complete")]


def test_a_trial_rerun_after_its_worker_died_records_the_death(tmp_path):
    ids = _first_ids(3)
    task = KillsItsWorker(SPACE, victims=ids[2:], once_in=tmp_path, epochs=3, epoch_s=0.1)
    with DaskExecutor(n_workers=2, allowed_failures=1) as ex:
        s = nasbook.Search(SPACE, task, strategy="random", budget=3, seed=0, storage=":memory:", executor=ex)
        s.run(progress="none")
    assert all(t.state is TrialState.COMPLETE for t in s.trials)
    assert s.trials[2].attrs["attempts"] == 2 and "died" in s.trials[2].attrs["worker_deaths"]
    assert "attempts" not in s.trials[0].attrs and "attempts" not in s.trials[1].attrs


class EatsMemory(ToyTask):
    def __init__(self, space, victims, **kw):
        super().__init__(space, **kw)
        self.victims = tuple(victims)

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        if arch.id in self.victims:
            hog = []
            for _ in range(60):  # 100 MB at a time, until the nanny restarts the worker
                hog.append(np.ones(12_500_000))
                time.sleep(0.05)
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def test_a_trial_over_the_workers_memory_limit_fails_saying_so(tmp_path):
    import dask
    from distributed import Client, LocalCluster

    ids = _first_ids(3)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="500MB", processes=True,
                               host="127.0.0.1", dashboard_address=":0")
    try:
        with Client(cluster) as client:
            s = nasbook.Search(SPACE, EatsMemory(SPACE, ids[2:], epochs=2, epoch_s=0.05), strategy="random", budget=3,
                               seed=0, storage=":memory:", executor=client)
            s.run(progress="none")
            s.close()
    finally:
        cluster.close()
    dead = s.trials[2]
    assert [t.state for t in s.trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAILED]
    assert dead.reason.count("ran out of memory (its nanny restarted it at") == 2, dead.reason


def test_the_stored_executor_says_what_ran(tmp_path):
    path = tmp_path / "ex.db"
    ex = DaskExecutor(n_workers=2)
    assert repr(ex) == "DaskExecutor(LocalCluster, n_workers=2)"  # not started: its capacity is not known
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=path, name="ex", executor=ex)
    assert _config(path, "ex")["executor"] == "DaskExecutor(LocalCluster, n_workers=2)"
    try:
        s.run(progress="none")
        stored = _config(path, "ex")["executor"]
        assert stored == repr(ex) and stored.startswith("DaskExecutor(tls://127.0.0.1:") and stored.endswith(", capacity=2)")
    finally:
        s.close()
    assert repr(ex) == "DaskExecutor(LocalCluster, n_workers=2)"


def test_trials_that_all_kill_their_workers_stop_the_run_once_named(tmp_path):
    from nasbook._errors import RepeatedTrialFailure

    task = KillsItsWorker(SPACE, victims=_first_ids(12))  # every architecture: a set-up at fault
    with DaskExecutor(n_workers=2, allowed_failures=0) as ex, nasbook.set_options(stop_after_failures=3):
        s = nasbook.Search(SPACE, task, strategy="random", budget=12, seed=0, storage=tmp_path / "all.db", executor=ex)
        with pytest.raises(RepeatedTrialFailure) as info:
            s.run(progress="none")
    msg = str(info.value)
    assert "first 3 trials" in msg and re.search(r"its dask worker died each time it ran \(trial \d+: its worker died once", msg)
    assert "trial.attrs['worker_deaths']" in msg
    assert s.n_trials == 3 and all(t.state is TrialState.FAILED for t in s.trials)


def test_a_users_own_event_handler_is_kept():
    from distributed import Client, LocalCluster

    seen = []
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.subscribe_topic("all", seen.append)
        ex = DaskExecutor(client)
        ex.start()
        try:
            assert client._event_handlers["all"] == seen.append
            assert client._event_handlers["worker-restart-memory"] == ex._losses.on_event
        finally:
            ex.close()
        again = DaskExecutor(client)  # distributed keeps a handler after unsubscribe_topic: a later executor subscribes anew
        again.start()
        try:
            assert client._event_handlers["worker-restart-memory"] == again._losses.on_event
            assert client._event_handlers["all"] == seen.append
        finally:
            again.close()
