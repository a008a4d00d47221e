"""Trials on a real dask LocalCluster (2 worker processes on 127.0.0.1)."""

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

import nasbook
from nasbook._errors import ExecutorError, InvalidParameterError
from nasbook.executors import DaskCudaExecutor, DaskExecutor, LocalExecutor, resolve_executor
from nasbook.search import SearchState, TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask

pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)


@pytest.fixture(scope="module")
def executor():
    ex = DaskExecutor(n_workers=2)
    ex.start()
    yield ex
    ex.close()


def _rows(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT number, state FROM nasbook_trials ORDER BY number").fetchall()
    finally:
        con.close()


def test_tabular_search_on_two_workers(executor, tmp_path):
    path = tmp_path / "d.db"
    s = nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=24, seed=0, storage=path, executor=executor).run()
    assert executor.capacity == 2 and s.state is SearchState.DONE
    assert sorted(t.number for t in s.trials) == list(range(24))
    assert len({t.arch.id for t in s.trials}) == 24
    rows = _rows(path)
    assert [r[0] for r in rows] == list(range(24)) and {r[1] for r in rows} == {"complete"}  # nothing left RUNNING
    again = nasbook.load_search(s.name, path)
    assert [t.arch.id for t in again.trials] == [t.arch.id for t in s.trials]


def test_reports_stream_back_and_stop_reaches_running_trials(executor):
    task = ToyTask(SPACE, epochs=6, epoch_s=0.15)
    seen = []

    def watch(search, trial):
        seen.append(dict(search.running))

    s = nasbook.Search(SPACE, task, budget=4, seed=0, storage=":memory:", executor=executor, callbacks=[watch])
    s.run()
    assert all(t.state is TrialState.COMPLETE and t.epochs == 6 and len(t.curves["score"]) == 6 for t in s.trials)
    assert any(seen), "no per-epoch report reached the notebook process while trials ran"
    # STOP: a trial asked to stop ends early, PRUNED, with what it reached. It is stopped once it has reported
    # (it runs then), and it is long (60 s): a stall here cannot let it finish first (a 0.9 s trial stopped
    # 0.2 s after its submission finished first under a 1 s stall)
    long = ToyTask(SPACE, epochs=400, epoch_s=0.15)
    executor.submit(999, long, SPACE, SPACE.sample(__import__("numpy").random.default_rng(0)))
    events = []
    deadline = time.monotonic() + 120  # safety nets: a report comes within a second, the end within a few
    while not any(e.kind == "report" and e.number == 999 for e in events) and time.monotonic() < deadline:
        events += executor.poll(0.2)
    assert any(e.kind == "report" for e in events), "trial 999 never reported"
    executor.stop(999)
    while not any(e.kind == "done" for e in events) and time.monotonic() < deadline:
        events += executor.poll(0.2)
    done = next(e for e in events if e.kind == "done")
    assert done.outcome.state == "pruned" and done.outcome.result.epochs < 400


def test_trial_timeout(executor, tmp_path):
    task = ToyTask(SPACE, epochs=50, epoch_s=0.1)
    s = nasbook.Search(SPACE, task, budget=2, seed=0, storage=tmp_path / "t.db", executor=executor, trial_timeout_s=0.5).run()
    assert [t.state for t in s.trials] == [TrialState.FAILED, TrialState.FAILED]
    assert all("timed out after 0.5 s" in t.reason for t in s.trials)
    assert {r[1] for r in _rows(tmp_path / "t.db")} == {"failed"}


class Recorder(ToyTask):
    """Writes a file per attempt, so a test can see a trial run twice. The first attempt at ``victim`` then
    holds until a ``killed`` file appears: the test kills its worker while it surely runs, however loaded
    the machine (it used to kill 0.3 s into a 2 s trial, and a stall let the trial finish first)."""

    def __init__(self, space, folder, victim=None, **kw):
        super().__init__(space, **kw)
        self.folder = str(folder)
        self.victim = victim

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        Path(self.folder, f"{arch.id}-{os.getpid()}-{time.time_ns()}").touch()
        killed = Path(self.folder).parent / "killed"
        deadline = time.monotonic() + 120  # a safety net: the kill comes at once
        while arch.id == self.victim and not killed.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def test_a_killed_worker_is_survived_and_its_trial_rerun(tmp_path):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    victim = nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=":memory:").run().trials[0].arch.id
    task = Recorder(SPACE, attempts, victim=victim, epochs=10, epoch_s=0.2)
    with DaskExecutor(n_workers=2) as ex:
        killed = []
        s = nasbook.Search(SPACE, task, budget=4, seed=0, storage=tmp_path / "k.db", executor=ex)

        import threading

        def killer():
            # kill (SIGKILL) the worker process of the victim's first attempt: it holds until the kill
            deadline = time.monotonic() + 120  # a safety net: the first trial starts within seconds
            while time.monotonic() < deadline and not killed:
                for f in sorted(attempts.iterdir()):
                    arch_id, pid = f.name.split("-")[:2]
                    if arch_id == victim:
                        os.kill(int(pid), signal.SIGKILL)
                        killed.append(arch_id)
                        (tmp_path / "killed").touch()  # its re-run goes through
                        break
                time.sleep(0.02)

        t = threading.Thread(target=killer)
        t.start()
        s.run()
        t.join()
    assert killed == [victim]
    assert s.n_trials == 4 and all(t.state is TrialState.COMPLETE for t in s.trials)
    per_arch = {}
    for f in attempts.iterdir():
        per_arch.setdefault(f.name.split("-")[0], []).append(f)
    assert len(per_arch[killed[0]]) == 2, "the killed trial was not re-run exactly once"
    assert sum(len(v) for v in per_arch.values()) == 5  # 4 trials + 1 re-run
    assert {r[1] for r in _rows(tmp_path / "k.db")} == {"complete"}


def test_interrupt_marks_running_trials_queued_and_resume_reruns_them(executor, tmp_path):
    path = tmp_path / "q.db"
    task = ToyTask(SPACE, epochs=5, epoch_s=0.1)

    def ctrl_c(search, trial):
        if search.n_trials == 1:  # the other worker's trial is still running (or not yet told)
            raise KeyboardInterrupt

    s = nasbook.Search(SPACE, task, budget=6, seed=0, storage=path, name="q", executor=executor, callbacks=[ctrl_c])
    with pytest.raises(KeyboardInterrupt):
        s.run()
    states = dict(_rows(path))
    assert "running" not in states.values() and list(states.values()).count("queued") >= 1
    resumed = nasbook.load_search("q", path, task=task, executor=executor).run()
    assert resumed.n_trials == 6 and sorted(t.number for t in resumed.trials) == list(range(6))
    assert {r[1] for r in _rows(path)} == {"complete"}


@pytest.mark.parametrize("strategy, epochs", [("asha", 10), ("asha", 25), ("sh", 10), ("hyperband", 25)])
def test_an_epochs_budget_is_not_exceeded_by_trials_in_flight_on_two_workers(executor, strategy, epochs):
    # before: ASHA with budget={"epochs": 10} on these two workers spent 12 or 13 epochs, Hyperband with 25 spent
    # 30: the loop started trials while the epochs of those in flight were not counted yet
    from nasbook.strategies import ASHA, Hyperband, SuccessiveHalving
    from nasbook.tasks import DigitsTable

    make = {"asha": ASHA, "sh": SuccessiveHalving, "hyperband": Hyperband}[strategy]
    s = nasbook.Search(DigitsTable(), strategy=make(min_epochs=1, max_epochs=9, eta=3), budget={"epochs": epochs},
                       seed=0, storage=":memory:", executor=executor).run(progress="none")
    assert s.epochs_spent == sum(t.attrs["epochs_run"] for t in s.trials) <= epochs
    assert s.epochs_spent > epochs - 9 and {t.state for t in s.trials} == {TrialState.COMPLETE}  # 9: the most one trial costs


def test_scheduler_address_nobody_listens_on():
    ex = DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=0.25)  # refused at once: retried until the timeout
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match=r"no dask scheduler answered within 0\.25 s"):
        ex.start()
    assert time.monotonic() - t0 < 30


def test_clients_are_made_with_garbage_collection_paused(monkeypatch):
    # distributed's Client.__del__ takes LoopRunner's lock, which a Client's start holds: a collection inside
    # that start that finalises an earlier, half-built client hangs the process for good (seen in CI)
    import gc

    import distributed

    seen = []

    def refused(*args, **kwargs):
        seen.append(gc.isenabled())
        raise OSError("connection refused")

    monkeypatch.setattr(distributed, "Client", refused)
    with pytest.raises(ExecutorError, match="no dask scheduler answered"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=1).start()
    assert seen == [False] and gc.isenabled()


def test_search_state_is_kept_when_the_executor_cannot_start(tmp_path):
    path = tmp_path / "keep.db"
    nasbook.Search(NasBenchGraph("cora"), budget=5, seed=0, storage=path, name="keep").run()
    s = nasbook.load_search("keep", path, budget=10,
                          executor=DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=0.25))
    with pytest.raises(ExecutorError):
        s.run()
    assert nasbook.load_search("keep", path).n_trials == 5


def test_dask_cuda_executor_explains_what_is_missing():
    try:
        import dask_cuda  # noqa: F401
    except ImportError:
        with pytest.raises(ExecutorError, match=r"pip install 'nasbook\[gpu-cu12\]'"):
            DaskCudaExecutor().start()
    else:  # pragma: no cover - GPU machines
        import torch

        if not torch.cuda.is_available():
            with pytest.raises(ExecutorError, match="no NVIDIA GPU"):
                DaskCudaExecutor().start()


def test_resolve_executor_names():
    assert isinstance(resolve_executor("local"), LocalExecutor)
    assert isinstance(resolve_executor("dask"), DaskExecutor)
    assert isinstance(resolve_executor("tcp://127.0.0.1:8786"), DaskExecutor)
    with pytest.raises(InvalidParameterError, match=r"Unknown executor 'dsak'.*did you mean 'dask'"):
        resolve_executor("dsak")
    with pytest.raises(InvalidParameterError, match=r"trial_timeout_s=...\) must be a number of seconds > 0"):
        nasbook.Search(NasBenchGraph("cora"), storage=":memory:", trial_timeout_s=0)


@pytest.mark.gpu
def test_dask_cuda_executor_runs_one_trial_per_gpu(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("dask_cuda")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    n_gpus = torch.cuda.device_count()
    with DaskCudaExecutor() as ex:
        assert ex.capacity == n_gpus
        visible = ex.dask_client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES", ""))
        assert len({v.split(",")[0] for v in visible.values()}) == n_gpus  # each worker leads with its own GPU
        s = nasbook.Search(CellSpace(), Digits(max_epochs=2, accelerator="auto"), budget=2 * n_gpus, seed=0,
                           storage=tmp_path / "gpu.db", executor=ex).run()
    assert all(t.state is TrialState.COMPLETE for t in s.trials)


def test_warm_up_imports_on_workers_that_restart_later():
    with DaskExecutor(n_workers=1) as ex:
        client = ex.dask_client
        assert not any(client.run(lambda: "colorsys" in sys.modules).values())
        ex.warm_up(("colorsys",))
        assert all(client.run(lambda: "colorsys" in sys.modules).values())
        client.restart()  # fresh worker processes: the plugin imports again before any trial
        assert all(client.run(lambda: "colorsys" in sys.modules).values())


def test_local_workers_ignore_ctrl_c_also_after_a_restart(executor):
    # Ctrl-C in a terminal reaches every process of the group: the workers nasbook starts must leave it
    # to the search (which stores the trials in flight and closes them) instead of dying with tracebacks
    client = executor.dask_client

    def ignores_sigint():
        return signal.getsignal(signal.SIGINT) == signal.SIG_IGN

    assert len(client.run(ignores_sigint)) == 2 and all(client.run(ignores_sigint).values())
    pid = next(iter(client.run(os.getpid).values()))
    os.kill(pid, signal.SIGINT)
    time.sleep(1.0)
    assert pid in client.run(os.getpid).values()  # still alive
    client.restart()
    assert all(client.run(ignores_sigint).values())
