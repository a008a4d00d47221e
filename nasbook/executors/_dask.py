"""Trials on a dask cluster: a CPU ``LocalCluster``, any ``distributed.Client`` or scheduler address,
or ``dask_cuda.LocalCUDACluster`` (one worker per GPU)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import ExecutorError, InvalidParameterError, check_int
from nasbook.executors._base import BaseExecutor, Decide, ExecutorEvent, evaluate_trial
from nasbook.trial import Decision, Outcome, TrialState

if TYPE_CHECKING:
    from distributed import Client, Future

    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


#: submission tokens a STOP has reached, in each worker process (set by :func:`_mark_stopped`)
_STOPPED: set[str] = set()


async def _mark_stopped(token: str) -> None:
    """Runs on every worker's event loop (``Client.run``): trials submitted under ``token`` stop at
    their next report. A coroutine, so the broadcast need not wait for it (``wait=False``)."""
    _STOPPED.add(token)
    if len(_STOPPED) > 10_000:  # tokens of trials that had already ended when their STOP came
        _STOPPED.clear()
        _STOPPED.add(token)


def _remote_trial(
    task: Task,
    space: SearchSpace,
    arch: Architecture,
    number: int,
    fidelity: Mapping[str, Any] | None,
    topic: str,
    token: str,
    torch_threads: int,
) -> Outcome:
    """Runs on a worker: evaluate, stream each epoch's report, obey a STOP.

    Reports go out as dask events (``Worker.log_event``: batched, no round trip, the trial never
    waits for the notebook); a STOP arrives as a flag set on the worker by ``Client.run``, so
    asking "should I stop?" after each epoch costs a set look-up.
    """
    import sys

    from distributed import get_worker

    if torch_threads and ("torch" in sys.modules or "nasbook.training" in task.worker_imports):
        import torch

        torch.set_num_threads(torch_threads)
    worker = get_worker()

    def report(epoch: int, **metrics: float) -> Decision:
        worker.log_event(topic, {"number": number, "token": token, "epoch": int(epoch),
                                 "metrics": {k: float(v) for k, v in metrics.items()}})
        return Decision.STOP if token in _STOPPED else Decision.CONTINUE

    try:
        return evaluate_trial(task, space, arch, number, fidelity, report)
    finally:
        _STOPPED.discard(token)


@contextlib.contextmanager
def training_worker_config() -> Iterator[None]:
    """Dask settings for the worker processes nasbook starts itself (LocalCluster, LocalCUDACluster).

    * ``MALLOC_TRIM_THRESHOLD_`` left unset. Dask sets it (65536) for every worker to hand freed
      memory back to the OS, but setting it also freezes glibc's mmap threshold, so each tensor
      over 128 kB becomes an mmap and fresh page faults: small networks trained 1.3-1.7x slower in
      a worker than in the notebook. The value a dask nanny copied into this process's
      environment (which new workers would inherit) is held back while they start.
    * The workers' statistical profiler off: it samples every thread's stack 100 times a second,
      a cost a Python-heavy training loop pays in full.

    Clusters you start yourself keep your settings; see the docs on executors.
    """
    import dask

    key = "MALLOC_TRIM_THRESHOLD_"
    dask_value = str(dask.config.get(f"distributed.nanny.pre-spawn-environ.{key}", None))
    held = os.environ.pop(key) if os.environ.get(key) == dask_value else None
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{key}": None,
                              "distributed.worker.profile.enabled": False}):
            yield
    finally:
        if held is not None:
            os.environ[key] = held


class DaskExecutor(BaseExecutor):
    """Run trials on a dask cluster.

    Parameters
    ----------
    client : distributed.Client, str or None
        An existing client, a scheduler address (``"tcp://host:8786"``), or None to start a CPU
        ``LocalCluster`` on 127.0.0.1 (closed again by :meth:`close`).
    n_workers : int
        Workers of the LocalCluster started when ``client`` is None (default: CPU count, max 4).
    torch_threads : int
        ``torch.set_num_threads`` in each trial (one per trial by default: several trials share
        the cores, and more threads per trial made small networks ten times slower here).
    connect_timeout_s : float
        How long to wait for a scheduler address to answer.
    allowed_failures : int
        Worker deaths a trial survives (dask re-runs it elsewhere each time) before it FAILS.

    Workers stay up across trials and searches until :meth:`close`, so imports (torch,
    Lightning) are paid once per worker.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        n_workers: int | None = None,
        torch_threads: int = 1,
        connect_timeout_s: float = 10.0,
        allowed_failures: int = 2,
    ):
        self.client = client
        self.n_workers = n_workers
        self.torch_threads = torch_threads
        self.connect_timeout_s = connect_timeout_s
        self.allowed_failures = allowed_failures
        self._client: Client | None = None
        self._cluster: Any = None
        self._owns = False
        self._futures: dict[int, Future] = {}
        self._tokens: dict[int, str] = {}
        self._wake = threading.Event()
        self._finished: deque[tuple[int, str, Outcome | None, BaseException | None]] = deque()
        self._reports: deque[dict[str, Any]] = deque()
        self._stopped: set[int] = set()
        self._uid = uuid.uuid4().hex[:10]
        self._topic = f"nasbook-reports-{self._uid}"

    def __repr__(self) -> str:
        where = self._address() or ("LocalCluster" if self.client is None else repr(self.client))
        return f"{type(self).__name__}({where}, capacity={self.capacity})"

    def _address(self) -> str | None:
        if self._client is not None:
            try:
                return str(self._client.scheduler.address)  # type: ignore[union-attr]
            except Exception:  # pragma: no cover - a closed client
                return None
        return self.client if isinstance(self.client, str) else None

    # -- life cycle -------------------------------------------------------------------------------
    def _make_cluster(self) -> Any:
        from distributed import LocalCluster

        n = self.n_workers if self.n_workers is not None else max(1, min(4, os.cpu_count() or 1))
        with training_worker_config():
            return LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
            )

    def start(self, decide: Decide | None = None) -> None:
        if self._client is not None:
            return
        check_int(type(self).__name__, "torch_threads", self.torch_threads, minimum=0)
        check_int(type(self).__name__, "allowed_failures", self.allowed_failures, minimum=0)
        check_int(type(self).__name__, "n_workers", self.n_workers, minimum=1, allow_none=True)
        import dask
        from distributed import Client

        dask.config.set({"distributed.scheduler.allowed-failures": self.allowed_failures})
        if self.client is None:
            self._cluster = self._make_cluster()
            self._client = Client(self._cluster, set_as_default=False)
            self._owns = True
        elif isinstance(self.client, str):
            try:
                self._client = Client(self.client, timeout=self.connect_timeout_s, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"DaskExecutor(client={self.client!r}): no dask scheduler answered within "
                    f"{self.connect_timeout_s:g} s ({type(exc).__name__}: {exc}). Start one with "
                    "`dask scheduler` (and `dask worker ADDRESS`), or pass client=None for a local cluster."
                ) from exc
            self._owns = True
        elif isinstance(self.client, Client):
            self._client = self.client
        else:
            raise InvalidParameterError(
                f"DaskExecutor(client=...) must be a distributed.Client, a scheduler address or None; got {self.client!r}."
            )
        self.capacity = max(1, sum(self._client.nthreads().values()))
        self._client.subscribe_topic(self._topic, self._on_report)

    def _on_report(self, event: tuple[float, dict[str, Any]]) -> None:
        # runs on the client's event loop thread: hand the report over and wake poll()
        self._reports.append(event[1])
        self._wake.set()

    def close(self) -> None:
        for number in list(self._futures):
            self.cancel(number)
        if self._client is not None:
            try:
                self._client.unsubscribe_topic(self._topic)
            except Exception:  # pragma: no cover - the client is already closed
                pass
        if self._owns and self._client is not None:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        self._client = self._cluster = None
        self._owns = False
        self._reports.clear()
        self._finished.clear()

    @property
    def dask_client(self) -> Client:
        if self._client is None:
            self.start()
        assert self._client is not None
        return self._client

    def warm_up(self, modules: tuple[str, ...]) -> None:
        """Import ``modules`` on every worker at once (Lightning takes 6-12 s per fresh worker).

        A dask worker plugin does it, so a worker that joins later (or restarts after dying)
        imports them before its first trial too (registering again re-imports: cached, instant).
        """
        if modules:
            from distributed.diagnostics.plugin import WorkerPlugin

            class _Imports(WorkerPlugin):  # picklable by value: defined here, it carries its modules
                def __init__(self, mods: tuple[str, ...]):
                    self.mods = mods

                def setup(self, worker: Any) -> None:
                    import importlib

                    for m in self.mods:
                        importlib.import_module(m)

            self.dask_client.register_plugin(_Imports(tuple(modules)), name="nasbook-imports-" + ",".join(sorted(modules)))

    # -- trials ---------------------------------------------------------------------------------------
    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture, fidelity: Mapping[str, Any] | None = None) -> None:
        client = self.dask_client
        token = uuid.uuid4().hex[:8]  # a fresh stop flag per submission: a re-run starts unstopped
        self._tokens[number] = token
        self._stopped.discard(number)
        fut = client.submit(
            _remote_trial, task, space, arch, number, fidelity, self._topic, token,
            self.torch_threads, key=f"nasbook-trial-{self._uid}-{number}-{token}", pure=False,
        )
        self._futures[number] = fut
        loop = client.loop
        assert loop is not None  # a started client always has its event loop
        loop.add_callback(self._collect, client, number, token, fut)

    async def _collect(self, client: Client, number: int, token: str, fut: Future) -> None:
        # on the client's event loop: wait for the trial and fetch its outcome at once, while the
        # notebook's thread goes on (fetching in poll() cost one more round trip per trial)
        outcome: Outcome | None = None
        error: BaseException | None = None
        try:
            outcome = (await client.gather([fut], asynchronous=True))[0]
        except BaseException as exc:  # the trial's error, KilledWorker, or cancellation
            error = exc
        self._finished.append((number, token, outcome, error))
        self._wake.set()

    @property
    def n_running(self) -> int:
        return len(self._futures)

    def poll(self, timeout_s: float = 0.1) -> list[ExecutorEvent]:
        # a finished trial (its _collect) or an epoch's report (event handler) wakes us at once;
        # waiting costs no round trip to the scheduler
        if self._futures and not self._reports and not self._finished:
            self._wake.wait(timeout_s)
        self._wake.clear()
        events: list[ExecutorEvent] = []
        restop: set[int] = set()
        while self._reports:
            item = self._reports.popleft()
            number = int(item["number"])
            if item.get("token") != self._tokens.get(number):
                continue  # from an earlier submission of this number (cancelled, or its worker died)
            if number in self._stopped:
                restop.add(number)  # still reporting after STOP: e.g. re-run on a worker that joined later
            events.append(ExecutorEvent("report", number, int(item["epoch"]), item["metrics"]))
        for number in restop:
            self._send_stop(number)
        while self._finished:
            number, token, outcome, error = self._finished.popleft()
            if self._tokens.get(number) != token or number not in self._futures:
                continue  # cancelled, or an earlier submission of a re-submitted number
            del self._futures[number]
            self._stopped.discard(number)
            self._tokens.pop(number, None)  # reports still in flight from it are dropped
            events.append(ExecutorEvent("done", number, outcome=outcome if error is None else self._failure(number, error)))
        return events

    def _failure(self, number: int, exc: BaseException) -> Outcome:
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            return Outcome(number, TrialState.FAILED, None,
                           f"its worker died {self.allowed_failures + 1} times while running it (dask re-ran it on "
                           f"another worker each time): {exc}", attempts=self.allowed_failures + 1)
        if isinstance(exc, InvalidParameterError):
            raise exc  # the user's set-up is wrong: stop the search with the task's message
        return Outcome(number, TrialState.FAILED, None, f"{type(exc).__name__}: {exc}")

    def stop(self, number: int) -> None:
        if number in self._futures and number not in self._stopped:
            self._stopped.add(number)
            self._send_stop(number)

    def _send_stop(self, number: int) -> None:
        token = self._tokens.get(number)
        if token is not None:  # every worker gets the flag: cheaper than asking who runs the trial
            self.dask_client.run(_mark_stopped, token, wait=False, on_error="ignore")

    def cancel(self, number: int) -> None:
        fut = self._futures.pop(number, None)
        self._stopped.discard(number)
        if fut is not None:
            self._send_stop(number)  # a running trial stops at its next report
            fut.cancel()
        self._tokens.pop(number, None)


class DaskCudaExecutor(DaskExecutor):
    """One dask worker per GPU (``dask_cuda.LocalCUDACluster``), one trial per GPU.

    Each worker sees only its GPU through ``CUDA_VISIBLE_DEVICES``, so a trial's
    ``accelerator="auto"`` lands on it. Needs the ``gpu`` extra (``pip install 'nasbook[gpu]'``)
    and an NVIDIA GPU.
    """

    def _make_cluster(self) -> Any:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError as exc:
            raise ExecutorError(
                "DaskCudaExecutor needs dask-cuda: pip install 'nasbook[gpu]' (or conda install -c rapidsai "
                "-c conda-forge dask-cuda)."
            ) from exc
        n_gpus = _count_gpus()
        if n_gpus == 0:
            raise ExecutorError("DaskCudaExecutor found no NVIDIA GPU on this machine; use DaskExecutor() (CPU) instead.")
        kwargs: dict[str, Any] = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0", "silence_logs": logging.ERROR}
        if self.n_workers is not None:
            kwargs["CUDA_VISIBLE_DEVICES"] = list(range(min(self.n_workers, n_gpus)))
        with training_worker_config():
            return LocalCUDACluster(**kwargs)


def _count_gpus() -> int:
    try:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # pragma: no cover
        return 0


def resolve_executor(executor: Any) -> BaseExecutor:
    """``"local"``, ``"dask"``, ``"dask-cuda"``, ``"auto"`` (dask-cuda when GPUs exist, else a CPU
    cluster), a ``distributed.Client``, a scheduler address, or an executor instance."""
    from nasbook._errors import unknown_choice
    from nasbook.executors._base import LocalExecutor

    if isinstance(executor, BaseExecutor):
        return executor
    if executor is None or executor == "local":
        return LocalExecutor()
    if isinstance(executor, str):
        if executor == "dask":
            return DaskExecutor()
        if executor in ("dask-cuda", "dask_cuda"):
            return DaskCudaExecutor()
        if executor == "auto":
            return DaskCudaExecutor() if _count_gpus() > 0 else DaskExecutor()
        if "://" in executor:
            return DaskExecutor(executor)
        raise unknown_choice("executor", executor, ("local", "dask", "dask-cuda", "auto"),
                             "A scheduler address such as 'tcp://127.0.0.1:8786' works too.")
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        Client = ()  # type: ignore[assignment,misc]
    if isinstance(executor, Client):
        return DaskExecutor(executor)
    raise InvalidParameterError(
        f"executor must be 'local', 'dask', 'dask-cuda', 'auto', a scheduler address, a distributed.Client "
        f"or an executor instance; got {executor!r} of type {type(executor).__name__}."
    )
