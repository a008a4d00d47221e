"""A dask deployment as on a cluster: ``dask scheduler`` and ``dask worker`` started from the command
line as separate processes on 127.0.0.1. A scheduler that dies, a scheduler without workers, a
worker killed mid-search, bad and silent addresses."""

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pytest

import nasbook
from nasbook._errors import ExecutorError, InvalidParameterError, InvalidParameterTypeError
from nasbook.executors import DaskExecutor
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import Storage
from nasbook.testing import ToyTask

pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)
WAIT_S = 90  # upper bound on any wait below (a busy 2-core machine starts a Lightning worker in ~10 s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """Scheduler and worker processes started from the dask command line; all killed at teardown."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen:
        with open(self.folder / log, "ab") as out:  # the child keeps its own handle
            p = subprocess.Popen([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=dict(os.environ))
        self.procs.append(p)
        return p

    def scheduler(self, port: int = 0) -> tuple[subprocess.Popen, str]:
        """``dask scheduler`` on 127.0.0.1; returns the process and its address."""
        n = len(self.procs)
        file = self.folder / f"scheduler-{n}.json"
        p = self._spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                         "--no-dashboard", "--scheduler-file", str(file)], f"scheduler-{n}.log")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if file.exists():
                try:
                    return p, json.loads(file.read_text())["address"]
                except (ValueError, KeyError):  # still being written
                    pass
            assert p.poll() is None, (self.folder / f"scheduler-{n}.log").read_text()
            time.sleep(0.05)
        raise AssertionError(f"dask scheduler did not start within {WAIT_S} s")

    def worker(self, address: str) -> subprocess.Popen:
        """One ``dask worker`` process (no nanny: this process runs the trials), one thread."""
        n = len(self.procs)
        return self._spawn(["distributed.cli.dask_worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                            "--no-nanny", "--no-dashboard"], f"worker-{n}.log")

    def wait_for_workers(self, address: str, n: int) -> None:
        from distributed import Client

        with Client(address, timeout=WAIT_S, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=WAIT_S)

    def kill(self, p: subprocess.Popen) -> None:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait(timeout=WAIT_S)

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass


@pytest.fixture
def deploy(tmp_path):
    d = Deployment(tmp_path)
    yield d
    d.close()


def _rows(path):
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT number, state FROM nasbook_trials ORDER BY number").fetchall())
    finally:
        con.close()


def _bounded(fn, timeout_s=WAIT_S):
    """fn() in a thread: its result or error, and the seconds it took; fails if still running after timeout_s."""
    box: dict = {}

    def target():
        t0 = time.monotonic()
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        box["s"] = time.monotonic() - t0

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    assert not t.is_alive(), f"still running after {timeout_s} s (it would have hung)"
    return box


def _when_running(search, n, action):
    """Call action() once ``n`` trials of ``search`` have reported an epoch (a thread)."""
    done = threading.Event()

    def watch():
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and len(search.running) < n:
            time.sleep(0.02)
        action()
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    return done


@pytest.mark.slow
def test_a_dead_scheduler_stops_the_search_and_the_same_executor_resumes_it(deploy, tmp_path, caplog):
    port = _free_port()
    sched, address = deploy.scheduler(port)
    deploy.worker(address), deploy.worker(address)
    deploy.wait_for_workers(address, 2)
    path = tmp_path / "dead.db"
    task = ToyTask(SPACE, epochs=20, epoch_s=0.2)  # 4 s per trial: both are running when the scheduler dies
    ex = DaskExecutor(address, connect_timeout_s=5)
    s = nasbook.Search(SPACE, task, budget=4, seed=0, storage=path, name="dead", executor=ex)
    killed_at: list[float] = []
    _when_running(s, 2, lambda: (deploy.kill(sched), killed_at.append(time.monotonic())))
    out = _bounded(s.run)
    assert killed_at and isinstance(out.get("error"), ExecutorError), out
    waited = time.monotonic() - killed_at[0]
    assert "lost its connection to the dask scheduler" in str(out["error"])
    noise = [r.getMessage() for r in caplog.records if r.name.startswith("distributed") and r.levelno >= logging.ERROR]
    assert not noise, noise  # the ExecutorError says it all: no traceback of the client's reconnect attempts
    rows = _rows(path)
    assert list(rows.values()).count("queued") == 2 and set(rows.values()) <= {"queued", "complete"}, rows
    again = nasbook.load_search("dead", path, task=task)
    assert len(again.trials) == list(rows.values()).count("complete")
    print(f"ExecutorError {waited:.2f} s after the scheduler was killed")
    # the scheduler comes back at the same address: the same search, same executor, goes on
    sched2, address2 = deploy.scheduler(port)
    assert address2 == address
    deploy.worker(address), deploy.worker(address)
    deploy.wait_for_workers(address, 2)
    out = _bounded(s.run)
    assert "error" not in out, out
    assert s.n_trials == 4 and all(t.state is TrialState.COMPLETE for t in s.trials)
    assert set(_rows(path).values()) == {"complete"} and sorted(_rows(path)) == [0, 1, 2, 3]
    ex.close()


@pytest.mark.slow
def test_a_scheduler_without_workers_stops_the_search_and_another_scheduler_resumes_it(deploy, tmp_path):
    _, empty = deploy.scheduler()
    path = tmp_path / "empty.db"
    task = ToyTask(SPACE, epochs=2, epoch_s=0.05)
    s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=path, name="empty",
                       executor=DaskExecutor(empty, no_workers_timeout_s=2))
    out = _bounded(s.run)
    assert isinstance(out.get("error"), ExecutorError), out
    assert "has had no worker" in str(out["error"]) and "no_workers_timeout_s=2" in str(out["error"])
    print(f"ExecutorError {out['s']:.2f} s after run() on a scheduler without workers (no_workers_timeout_s=2)")
    rows = _rows(path)
    assert rows and set(rows.values()) == {"queued"}, rows
    # elsewhere, a scheduler with a worker: load the search there and finish its budget
    _, busy = deploy.scheduler()
    deploy.worker(busy)
    deploy.wait_for_workers(busy, 1)
    resumed = nasbook.load_search("empty", path, task=task, executor=busy)
    out = _bounded(resumed.run)
    assert "error" not in out, out
    assert resumed.n_trials == 3 and all(t.state is TrialState.COMPLETE for t in resumed.trials)
    assert set(_rows(path).values()) == {"complete"}
    resumed.close()


def test_bad_scheduler_addresses_are_named_in_the_error(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"DaskExecutor\(client=\.\.\.\).*'tcp://127.0.0.1:notaport'.*port"):
        DaskExecutor("tcp://127.0.0.1:notaport")
    with pytest.raises(InvalidParameterError, match=r"unknown address scheme 'foo'"):
        DaskExecutor("foo://127.0.0.1:8786")
    with pytest.raises(InvalidParameterError, match=r"missing port"):
        DaskExecutor("tcp://127.0.0.1")
    with pytest.raises(InvalidParameterTypeError, match=r"DaskExecutor\(client=\.\.\.\) must be a distributed.Client"):
        DaskExecutor(8786)
    with pytest.raises(InvalidParameterError, match=r"connect_timeout_s.*got 0"):
        DaskExecutor(connect_timeout_s=0)
    with pytest.raises(InvalidParameterError, match=r"no_workers_timeout_s.*got -1"):
        DaskExecutor(no_workers_timeout_s=-1)
    path = tmp_path / "bad.db"
    with pytest.raises(InvalidParameterError, match=r"^executor must be a dask scheduler address.*'tcp://host:notaport'"):
        nasbook.Search(SPACE, ToyTask(SPACE), storage=path, executor="tcp://host:notaport")
    if path.exists():
        assert Storage(path).search_names() == []


def test_a_scheduler_address_nobody_answers_fails_within_connect_timeout(tmp_path):
    path = tmp_path / "silent.db"
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, storage=path, name="silent",
                       executor=DaskExecutor(f"tcp://127.0.0.1:{_free_port()}", connect_timeout_s=1))
    out = _bounded(s.run, 60)
    assert isinstance(out.get("error"), ExecutorError), out
    assert "no dask scheduler answered within 1 s" in str(out["error"])
    print(f"ExecutorError {out['s']:.2f} s after run() (connect_timeout_s=1)")
    assert nasbook.load_search("silent", path, task=ToyTask(SPACE)).n_trials == 0


@pytest.mark.slow
def test_a_real_deployment_survives_a_killed_worker(deploy, tmp_path):
    pytest.importorskip("lightning")
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    class Recorded(Digits):
        def __init__(self, folder, **kw):
            super().__init__(**kw)
            self.folder = str(folder)

        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            Path(self.folder, f"{arch.id}-{os.getpid()}-{time.time_ns()}").touch()
            return super().evaluate(arch, space=space, fidelity=fidelity, report=report)

    _, address = deploy.scheduler()
    workers = {deploy.worker(address).pid, deploy.worker(address).pid}
    deploy.wait_for_workers(address, 2)
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    task = Recorded(attempts, max_epochs=2)
    s = nasbook.Search(CellSpace(), task, budget=6, seed=0, storage=tmp_path / "digits.db", name="digits",
                       executor=DaskExecutor(address))
    killed: list[str] = []

    def killer():
        # SIGKILL the worker process of a trial that has started and not finished (after the first one ended)
        deadline = time.monotonic() + 5 * WAIT_S
        while time.monotonic() < deadline and not killed:
            done = {t.arch.id for t in s.trials}
            started = sorted(attempts.iterdir()) if done else []
            for f in started:
                arch_id, pid = f.name.split("-")[:2]
                if arch_id not in done and int(pid) in workers:
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(arch_id)
                    break
            time.sleep(0.02)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    out = _bounded(s.run, 5 * WAIT_S)
    t.join(WAIT_S)
    assert "error" not in out, out
    assert killed, "no trial was running on a worker to kill"
    assert s.n_trials == 6 and all(t.state is TrialState.COMPLETE for t in s.trials), [t.reason for t in s.trials]
    assert set(_rows(tmp_path / "digits.db").values()) == {"complete"}
    per_arch: dict = {}
    for f in attempts.iterdir():
        arch_id, pid = f.name.split("-")[:2]
        per_arch.setdefault(arch_id, []).append(int(pid))
    assert len(per_arch[killed[0]]) == 2 and len(set(per_arch[killed[0]])) == 2, per_arch  # re-run on the other worker
    assert sum(map(len, per_arch.values())) == 7
    s.close()
