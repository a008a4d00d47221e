"""Trials on a dask cluster: a CPU ``LocalCluster``, any ``distributed.Client`` or scheduler address,
or ``dask_cuda.LocalCUDACluster`` (one worker per GPU)."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextlib
import logging
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import ExecutorError, InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.executors._base import BaseExecutor, ExecutorEvent, Outcome, evaluate_trial
from nasbook.tasks._base import Decision

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

    if torch_threads and ("torch" in sys.modules or getattr(task, "has_epochs", False)):
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


# -- checks before anything starts ------------------------------------------------------------------------
def check_scheduler_address(address: str, param: str = "DaskExecutor(client=...)") -> None:
    """Raise :class:`InvalidParameterError` naming ``param`` unless ``address`` is a dask scheduler
    address (``"tcp://host:port"``, ``"tls://host:port"``; distributed parses it)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    def bad(why: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"{param} must be a dask scheduler address such as 'tcp://127.0.0.1:8786'; got {address!r} ({why})."
        )

    try:
        scheme, location = parse_address(address, strict=False)
    except (TypeError, ValueError) as exc:
        raise bad(str(exc)) from None
    try:
        get_backend(scheme)
    except (ValueError, ImportError) as exc:
        raise bad(str(exc)) from None
    if scheme == "inproc":
        return
    try:
        host, port = parse_host_port(location)
    except (TypeError, ValueError) as exc:
        raise bad(f"no valid port number: {exc}") from None
    if not host or any(c.isspace() for c in host):
        raise bad(f"host {host!r} is not a host name")
    if not 0 < int(port) < 65536:
        raise bad(f"port {port} is outside 1..65535")


_GUARD = 'if __name__ == "__main__":'


def check_can_start_local_cluster() -> None:
    """Raise :class:`ExecutorError` when worker processes started now would re-run the calling script.

    Dask nannies start each worker with multiprocessing "spawn" (or "forkserver"), which imports
    the main module again in the new process: a script whose top-level code starts a search
    would start it once more in every worker (and each of those its own cluster). Looked at: the
    main module multiprocessing would re-import (its own ``get_preparation_data``), and the line
    its top-level code is running now, which must be under ``if __name__ == "__main__":``. A
    notebook, ``python -c``, code piped on stdin and a guarded script pass.
    """
    problem = local_cluster_problem()
    if problem is not None:
        raise ExecutorError(problem)


def local_cluster_problem() -> str | None:
    """What :func:`check_can_start_local_cluster` would raise, or None (a shorter traceback for callers)."""
    import dask

    if dask.config.get("distributed.worker.multiprocessing-method", "spawn") == "fork":
        return None
    path = _main_path_spawn_reruns()
    if path is None:
        return None
    main = sys.modules["__main__"]
    frame = _module_frame(main)
    if frame is None:  # its top-level code has finished (python -i) or runs nowhere we can see
        return None
    lineno = frame.f_lineno
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError):  # not Python source we can read: cannot tell
        return None
    if _guarded(tree.body, lineno):
        return None
    return (
        f"{path}, line {lineno} starts a dask cluster outside `{_GUARD}`: its workers start with "
        "multiprocessing 'spawn', which re-runs the script's top-level code in every worker. "
        f"Fix: put the code that builds and runs the search under `{_GUARD}` (or use executor='local')."
    )


def _main_path_spawn_reruns() -> str | None:
    """The file multiprocessing's spawn would run again in each new process, or None."""
    from multiprocessing import spawn

    main = sys.modules.get("__main__")
    if main is None:
        return None
    data = spawn.get_preparation_data("nasbook-check")
    if "init_main_from_path" in data:
        return str(getattr(main, "__file__", None) or data["init_main_from_path"])
    name = data.get("init_main_from_name")
    if name is None or name == "__main__" or name.endswith(".__main__"):  # spawn skips those itself
        return None
    file = getattr(main, "__file__", None)
    return str(file) if file else None


def _module_frame(main: Any) -> Any:
    """The frame running ``main``'s top-level code: on this thread's stack, else the main thread's."""
    namespace = vars(main)
    frames = sys._current_frames()
    starts = [sys._getframe(), frames.get(threading.main_thread().ident or -1)]
    for frame in starts:
        while frame is not None:
            if frame.f_code.co_name == "<module>" and frame.f_globals is namespace:
                return frame
            frame = frame.f_back
    return None


def _main_test(test: ast.expr) -> str | None:
    """``"eq"`` for ``__name__ == "__main__"``, ``"ne"`` for ``!=`` (either side), else None."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
        return None
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    consts = [s.value for s in sides if isinstance(s, ast.Constant)]
    if names == ["__name__"] and consts == ["__main__"]:
        return "eq" if isinstance(test.ops[0], ast.Eq) else "ne"
    return None


def _guarded(body: list[Any], lineno: int) -> bool:
    """Whether line ``lineno`` of the statements ``body`` lies under ``if __name__ == "__main__":``."""
    for node in body:
        if not node.lineno <= lineno <= (node.end_lineno or node.lineno):
            continue
        if isinstance(node, ast.If):
            kind = _main_test(node.test)
            for branch, guarded in ((node.body, kind == "eq"), (node.orelse, kind == "ne")):
                if any(s.lineno <= lineno <= (s.end_lineno or s.lineno) for s in branch):
                    return guarded or _guarded(branch, lineno)
            return False  # the test itself
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return False  # a decorator or default evaluated at import time
        inner: list[Any] = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                inner.append(child)
            elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                inner.extend(child.body)
        return _guarded(inner, lineno)
    return False


def _spawn_can_rerun_main() -> None:
    """Code piped on stdin (``python - <<EOF``) has ``__file__ == "<stdin>"``, which spawn tries to
    run again in every worker and cannot (``FileNotFoundError``). Such a main module has no file to
    re-import, so it is started without one, as in a notebook: the workers need none of its code
    (tasks are pickled by value)."""
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if main is not None and isinstance(file, str) and getattr(main, "__spec__", None) is None and not os.path.isfile(file):
        with contextlib.suppress(AttributeError, TypeError):
            del main.__file__


class _ReconnectNoise(logging.Filter):
    """Drops what distributed's client logs when it is closed while it tries to reconnect to a
    dead scheduler: a 35-line traceback of the cancelled attempt, and "Failed to reconnect"."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        if exc is not None and issubclass(exc, asyncio.CancelledError):
            return False
        return not str(record.msg).startswith("Failed to reconnect to scheduler")


@contextlib.contextmanager
def _quiet_reconnect_noise() -> Iterator[None]:
    """While nasbook closes a client whose scheduler is gone: the ExecutorError says what happened."""
    log = logging.getLogger("distributed.client")
    noise = _ReconnectNoise()
    log.addFilter(noise)
    try:
        yield
    finally:
        log.removeFilter(noise)


#: how often poll() asks the scheduler how many workers it has, while trials are in flight
_CHECK_EVERY_S = 1.0


class DaskExecutor(BaseExecutor):
    """Run trials on a dask cluster.

    Parameters
    ----------
    client : distributed.Client, str or None
        An existing client, a scheduler address (``"tcp://host:8786"``), or None to start a CPU
        ``LocalCluster`` on 127.0.0.1 (closed again by :meth:`close`). That cluster speaks TLS
        with temporary credentials made for it: only this executor's client can connect to it.
    n_workers : int
        Workers of the LocalCluster started when ``client`` is None (default: CPU count, max 4).
    torch_threads : int
        ``torch.set_num_threads`` in each trial (one per trial by default: several trials share
        the cores, and more threads per trial made small networks ten times slower here).
    connect_timeout_s : float
        How long to wait for a scheduler address to answer (and for the scheduler to answer a
        question while trials run).
    no_workers_timeout_s : float or None
        How long trials may wait while the scheduler has no worker at all before the search
        stops with :class:`~nasbook.ExecutorError` (None: wait for workers forever, e.g. for a
        batch queue that may take long to start them).
    allowed_failures : int
        Worker deaths a trial survives (dask re-runs it elsewhere each time) before it FAILS.
        Applies to the LocalCluster nasbook starts; a scheduler you start yourself keeps its own
        ``distributed.scheduler.allowed-failures`` setting.
    security : distributed.security.Security, bool or None
        For ``client=None``: None (default) or True makes temporary TLS credentials for the
        cluster, a ``Security`` is used as given, False starts it without TLS (any local user
        could then run code in its workers). For a scheduler address: the credentials to connect
        with (None: dask's configuration). Ignored for a ``distributed.Client``.

    Workers stay up across trials and searches until :meth:`close`, so imports (torch,
    Lightning) are paid once per worker.

    If the scheduler dies, or has no worker for ``no_workers_timeout_s``, ``search.run()``
    raises :class:`~nasbook.ExecutorError`; the trials in flight are stored QUEUED and run first
    when the search runs again (``start()`` connects anew).
    """

    def __init__(
        self,
        client: Any = None,
        *,
        n_workers: int | None = None,
        torch_threads: int = 1,
        connect_timeout_s: float = 10.0,
        no_workers_timeout_s: float | None = 60.0,
        allowed_failures: int = 2,
        security: Any = None,
    ):
        self.client = client
        self.n_workers = n_workers
        self.torch_threads = torch_threads
        self.connect_timeout_s = connect_timeout_s
        self.no_workers_timeout_s = no_workers_timeout_s
        self.allowed_failures = allowed_failures
        self.security = security
        self._check_params()
        self._client: Client | None = None
        self._cluster: Any = None
        self._owns = False
        self._futures: dict[int, Future] = {}
        self._tokens: dict[int, str] = {}
        self._wake = threading.Event()
        self._finished: deque[tuple[int, str, Outcome | None, BaseException | None]] = deque()
        self._reports: deque[dict[str, Any]] = deque()
        self._stopped: set[int] = set()
        self._next_check = 0.0
        self._no_workers_since: float | None = None
        self._lost_reason: str | None = None
        self._uid = uuid.uuid4().hex[:10]
        self._topic = f"nasbook-reports-{self._uid}"

    def _check_params(self) -> None:
        name = type(self).__name__
        check_int(name, "torch_threads", self.torch_threads, minimum=0)
        check_int(name, "allowed_failures", self.allowed_failures, minimum=0)
        check_int(name, "n_workers", self.n_workers, minimum=1, allow_none=True)
        for param, allow_none in (("connect_timeout_s", False), ("no_workers_timeout_s", True)):
            value = getattr(self, param)
            if value is None and allow_none:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InvalidParameterError(
                    f"{name}({param}=...) must be a number of seconds > 0{' or None' if allow_none else ''}; got {value!r}."
                )
        if isinstance(self.client, str):
            check_scheduler_address(self.client, f"{name}(client=...)")
        elif self.client is not None:
            try:
                from distributed import Client
            except ImportError:  # pragma: no cover
                Client = ()  # type: ignore[assignment,misc]
            if not isinstance(self.client, Client):
                raise InvalidParameterTypeError(
                    f"{name}(client=...) must be a distributed.Client, a scheduler address such as "
                    f"'tcp://127.0.0.1:8786' or None; got {self.client!r} of type {type(self.client).__name__}."
                )
        if self.security is not None and not isinstance(self.security, bool):
            from distributed.security import Security

            if not isinstance(self.security, Security):
                raise InvalidParameterTypeError(
                    f"{name}(security=...) must be a distributed.security.Security, True, False or None; "
                    f"got {self.security!r} of type {type(self.security).__name__}."
                )

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
    def check(self) -> None:
        """Raise :class:`~nasbook.ExecutorError` now if :meth:`start` could not start its cluster here.

        For a LocalCluster (``client=None``): a script must start it under ``if __name__ ==
        "__main__":`` (see :func:`check_can_start_local_cluster`). Cheap, starts nothing: the
        search calls it before it stores anything.
        """
        self._check_params()
        problem = local_cluster_problem() if self.client is None else None
        if problem is not None:
            raise ExecutorError(problem)

    def _local_security(self) -> Any:
        from distributed.security import Security

        if self.security is False:
            return None
        if isinstance(self.security, Security):
            return self.security
        try:
            return Security.temporary()
        except ImportError as exc:
            raise ExecutorError(
                f"{type(self).__name__} starts its local cluster with TLS, which needs the 'cryptography' package "
                f"({exc}): pip install cryptography. Or pass security=False for a cluster without TLS, to which "
                "any user of this machine could connect and run code."
            ) from exc

    def _make_cluster(self) -> Any:
        from distributed import LocalCluster

        n = self.n_workers if self.n_workers is not None else max(1, min(4, os.cpu_count() or 1))
        security = self._local_security()
        with training_worker_config():
            return LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                security=security, protocol="tls://" if security is not None else "tcp://",
            )

    def start(self) -> None:
        if self._client is not None:
            return
        self.check()
        import dask
        from distributed import Client

        if self.client is None:
            _spawn_can_rerun_main()
            # allowed-failures is the scheduler's own setting, read when it starts: set for it only
            with dask.config.set({"distributed.scheduler.allowed-failures": self.allowed_failures}):
                self._cluster = self._make_cluster()
            try:
                self._client = Client(self._cluster, set_as_default=False)
            except BaseException:
                self._cluster.close()
                self._cluster = None
                raise
            self._owns = True
        elif isinstance(self.client, str):
            try:
                self._client = Client(self.client, timeout=self.connect_timeout_s, set_as_default=False,
                                      security=self.security if not isinstance(self.security, bool) else None)
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"DaskExecutor(client={self.client!r}): no dask scheduler answered within "
                    f"{self.connect_timeout_s:g} s ({type(exc).__name__}: {exc}). Start one with "
                    "`dask scheduler` (and `dask worker ADDRESS`), or pass client=None for a local cluster."
                ) from exc
            self._owns = True
        else:
            client = self.client
            deadline = time.monotonic() + self.connect_timeout_s
            while client.status in ("newly-created", "connecting") and time.monotonic() < deadline:
                time.sleep(0.05)  # the client reconnects by itself after losing its scheduler
            if client.status != "running":
                raise ExecutorError(
                    f"{type(self).__name__}: the distributed.Client passed is {client.status!r}, not connected to "
                    f"a scheduler. Pass a new Client, or the scheduler's address (it reconnects by itself)."
                )
            self._client = client
            self._owns = False
        self._next_check = 0.0
        self._no_workers_since = None
        try:
            self.capacity = max(1, sum(self._client.nthreads().values()))
            self._client.subscribe_topic(self._topic, self._on_report)
        except (OSError, TimeoutError) as exc:
            self._lost(f"the dask scheduler at {self._address()} stopped answering ({type(exc).__name__}: {exc}).")
        self._lost_reason = None

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
        self._release()

    def _release(self) -> None:
        """Forget the client (closing what this executor opened); a later start() connects anew."""
        client, cluster, owns = self._client, self._cluster, self._owns
        self._client = self._cluster = None
        self._owns = False
        self._futures.clear()
        self._tokens.clear()
        self._stopped.clear()
        self._reports.clear()
        self._finished.clear()
        self._lost_reason = None
        if owns and client is not None:
            with contextlib.suppress(Exception), _quiet_reconnect_noise():
                client.close(timeout=min(5.0, self.connect_timeout_s))
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()

    def _lost(self, what: str) -> None:
        """Raise ExecutorError for a scheduler that is gone (or has no workers); forget the client."""
        in_flight = sorted(self._futures)
        self._release()
        trials = f"trials {', '.join(map(str, in_flight))} were" if len(in_flight) > 1 else (
            f"trial {in_flight[0]} was" if in_flight else "no trial was")
        raise ExecutorError(
            f"{type(self).__name__}: {what} The search stopped; {trials} running and will run first when it "
            "runs again: once the scheduler is back, call run() again (this executor reconnects), or "
            "nasbook.load_search(name, storage, executor=NEW_ADDRESS).run()."
        )

    def _connection_problem(self) -> str | None:
        """Why the trials in flight cannot finish, or None. A lost scheduler: at once (the client's
        own status); no workers: after no_workers_timeout_s (the scheduler's worker count, asked at
        most once a second while trials are in flight)."""
        client = self._client
        if client is None:
            return None
        if client.status != "running":
            return f"lost its connection to the dask scheduler at {self._address()} (client {client.status})."
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + _CHECK_EVERY_S
        try:
            info = client.sync(client.scheduler.identity, n_workers=0, callback_timeout=self.connect_timeout_s)
        except Exception as exc:
            return (f"the dask scheduler at {self._address()} did not answer within {self.connect_timeout_s:g} s "
                    f"({type(exc).__name__}: {exc}).")
        threads = int(info.get("total_threads") or 0)
        if threads > 0:
            self._no_workers_since = None
            self.capacity = threads  # workers may join (an adaptive cluster) or leave
            return None
        if self._no_workers_since is None:
            self._no_workers_since = now
        waited = now - self._no_workers_since
        if self.no_workers_timeout_s is not None and waited >= self.no_workers_timeout_s:
            return (f"the dask scheduler at {self._address()} has had no worker for {waited:.0f} s "
                    f"(no_workers_timeout_s={self.no_workers_timeout_s:g}). Start workers: "
                    f"`dask worker {self._address()} --nthreads 1`.")
        return None

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
        problem = self._lost_reason or (
            f"lost its connection to the dask scheduler at {self._address()} (client {client.status})."
            if client.status != "running" else None)
        if problem is not None:
            self._lost(problem)
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
        if self._lost_reason is not None:  # found by the last poll, which had outcomes to hand over first
            self._lost(self._lost_reason)
        if self._futures and not self._reports and not self._finished:
            self._wake.wait(timeout_s)
        self._wake.clear()
        lost = self._connection_problem() if self._futures else None
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
        if lost is None:
            for number in restop:
                self._send_stop(number)
        while self._finished:
            number, token, outcome, error = self._finished.popleft()
            if self._tokens.get(number) != token or number not in self._futures:
                continue  # cancelled, or an earlier submission of a re-submitted number
            if isinstance(error, (concurrent.futures.CancelledError, asyncio.CancelledError)):
                # not cancelled by us (that pops the number first): the scheduler forgot the trial, e.g.
                # the client lost its connection (and maybe reconnected at once); it will not finish
                lost = lost or f"the dask scheduler at {self._address()} dropped trial {number} ({error})."
                continue
            del self._futures[number]
            self._stopped.discard(number)
            self._tokens.pop(number, None)  # reports still in flight from it are dropped
            events.append(ExecutorEvent("done", number, outcome=outcome if error is None else self._failure(number, error)))
        if lost is not None:
            if any(e.kind == "done" for e in events):
                self._lost_reason = lost  # hand over what finished; the next poll (or submit) raises
                return events
            self._lost(lost)
        return events

    def _failure(self, number: int, exc: BaseException) -> Outcome:
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            try:
                attempts = int(exc.allowed_failures) + 1  # the scheduler's own setting
            except (AttributeError, IndexError, TypeError, ValueError):  # pragma: no cover - older distributed
                attempts = self.allowed_failures + 1
            return Outcome(number, "failed", None,
                           f"its worker died {attempts} times while running it (dask re-ran it on "
                           f"another worker each time): {exc}", attempts=attempts)
        if isinstance(exc, InvalidParameterError):
            raise exc  # the user's set-up is wrong: stop the search with the task's message
        return Outcome(number, "failed", None, f"{type(exc).__name__}: {exc}")

    def stop(self, number: int) -> None:
        if number in self._futures and number not in self._stopped:
            self._stopped.add(number)
            self._send_stop(number)

    def _send_stop(self, number: int) -> None:
        token, client = self._tokens.get(number), self._client
        if token is not None and client is not None and client.status == "running":
            # every worker gets the flag: cheaper than asking who runs the trial
            client.run(_mark_stopped, token, wait=False, on_error="ignore")

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
    and an NVIDIA GPU. Its cluster listens on 127.0.0.1 over plain TCP (``security`` is not used
    here yet: dask-cuda's TLS set-up is untested).
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
    cluster), a ``distributed.Client``, a scheduler address, or an executor instance.

    A dask executor is checked here (:meth:`DaskExecutor.check`), so that a search that could not
    start its cluster fails before it stores anything.
    """
    resolved = _resolve(executor)
    problem = local_cluster_problem() if isinstance(resolved, DaskExecutor) and resolved.client is None else None
    if problem is not None:  # raised here: the traceback a script prints stays short
        raise ExecutorError(problem)
    return resolved


def _resolve(executor: Any) -> BaseExecutor:
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
            check_scheduler_address(executor, "executor")
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
