"""Trials on a dask cluster: a CPU ``LocalCluster``, any ``distributed.Client``, cluster object or
scheduler address, or ``dask_cuda.LocalCUDACluster`` (one worker per GPU)."""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from nasbook._errors import ExecutorError, InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook._gc import gc_paused
from nasbook.executors import _quiet
from nasbook.executors._base import Decide
from nasbook.executors._cluster import (
    _quiet_reconnect_noise,
    _spawn_can_rerun_main,
    check_memory_limit,
    check_scheduler_address,
    closed_problem,
    describe_cluster,
    is_dask_cluster,
    local_cluster_problem,
    training_worker_config,
)
from nasbook.executors._dask_trials import DaskTrials
from nasbook.executors._hung import HungTrials
from nasbook.executors._losses import WorkerLosses, free_topics
from nasbook.trial import Outcome

if TYPE_CHECKING:
    from distributed import Client, Future


_CHECK_EVERY_S = 1.0


class DaskExecutor(DaskTrials):  # a BaseExecutor; its trials (submit, poll, stop, cancel): _dask_trials.py
    """Run trials on a dask cluster.

    Parameters
    ----------
    client : distributed.Client, cluster object, str or None
        An existing client; a dask cluster object you started (any ``distributed.deploy.Cluster``:
        ``LocalCluster``, ``dask_cuda.LocalCUDACluster``, ``SpecCluster``, dask-jobqueue's
        ``SLURMCluster``, ...), to which this executor opens a client of its own and closes it
        again in :meth:`close`, leaving the cluster running; a scheduler address as dask reads it
        (``"tcp://host:8786"``, ``"tls://host:8786"``, or ``"host:8786"``: tcp); or None to start a
        CPU ``LocalCluster`` on 127.0.0.1 (closed again by :meth:`close`). That cluster speaks TLS
        with temporary credentials made for it: only this executor's client can connect to it. A
        closed client or cluster is refused by :meth:`check` (``Search()`` calls it).
    n_workers : int
        Workers of the LocalCluster started when ``client`` is None (default: CPU count, max 4).
    memory_limit : int, str or None
        The memory each worker of the LocalCluster started when ``client`` is None may use: a
        number of bytes, or a string :func:`dask.utils.parse_bytes` reads (``"4GiB"``, ``"500MB"``);
        ``"auto"`` (the default: the machine's memory shared among the workers); 0 or None: no
        limit. By dask's defaults a worker past 80% of it pauses and one past 95% is restarted by
        its nanny (the trial re-runs; after ``allowed_failures`` deaths it FAILS, naming them).
        Shown in the repr, so stored with the search. Refused with ``client``: an existing
        cluster's workers have their own (``dask worker --memory-limit``).
    torch_threads : int
        ``torch.set_num_threads`` in each trial (one per trial by default: several trials share
        the cores, and more threads per trial made small networks ten times slower here); 0 leaves
        torch's own default.
    connect_timeout_s : float
        How long to wait for a scheduler address or a cluster's scheduler to answer (and for the
        scheduler to answer a question while trials run): a scheduler that is not running fails
        the search's ``run()`` with :class:`~nasbook.ExecutorError` after this (dask itself retries
        for 30 s).
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
        with (None: dask's configuration). Ignored for a ``distributed.Client`` and for a cluster
        object (its own ``security`` is used).

    Notes
    -----
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
        memory_limit: int | str | None = "auto",
        torch_threads: int = 1,
        connect_timeout_s: float = 10.0,
        no_workers_timeout_s: float | None = 60.0,
        allowed_failures: int = 2,
        security: Any = None,
    ):
        self.client = client
        self.n_workers = n_workers
        self.memory_limit = int(memory_limit) if isinstance(memory_limit, numbers.Integral) and not isinstance(
            memory_limit, bool) else memory_limit  # np.int64 -> int: the repr is stored
        self.torch_threads = torch_threads
        self.connect_timeout_s = connect_timeout_s
        self.no_workers_timeout_s = no_workers_timeout_s
        self.allowed_failures = allowed_failures
        self.security = security
        self._given_as: str | None = None  # "executor": Search(executor=...) made it, and errors name that parameter
        self._check_params()
        self._client: Client | None = None
        self._cluster: Any = None
        self._owns = False
        self._quieted = False  # holds _quiet's filter on distributed's logs while its local cluster lives
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
        self._losses = WorkerLosses(f"nasbook-trial-{self._uid}-")
        self._hung = HungTrials()  # cancelled trials that may still hold a worker's thread (_hung.py)
        self._loss_topics: list[str] = []  # the scheduler's topics this executor subscribed to

    def _check_params(self) -> None:
        name = type(self).__name__
        self.torch_threads = check_int(name, "torch_threads", self.torch_threads, minimum=0)
        self.allowed_failures = check_int(name, "allowed_failures", self.allowed_failures, minimum=0)
        self.n_workers = check_int(name, "n_workers", self.n_workers, minimum=1, allow_none=True)
        check_memory_limit(name, self.memory_limit)
        if self.client is not None and not (isinstance(self.memory_limit, str) and self.memory_limit == "auto"):
            raise InvalidParameterError(
                f"{name}(memory_limit={self.memory_limit!r}) sets the memory limit of the workers of the local "
                f"cluster it starts (client=None); with client={self.client!r:.80} the workers are already "
                "running with their own. Set it where they start (`dask worker ADDRESS --memory-limit 4GiB`, "
                "LocalCluster(memory_limit=...)), or pass client=None."
            )
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
        elif self.client is not None and not is_dask_cluster(self.client):
            try:
                from distributed import Client
            except ImportError:  # pragma: no cover
                Client = ()  # type: ignore[assignment,misc]
            if not isinstance(self.client, Client):
                raise InvalidParameterTypeError(
                    f"{name}(client=...) must be a distributed.Client, a dask cluster object (LocalCluster, "
                    f"SpecCluster, ...: any distributed.deploy.Cluster), a scheduler address such as "
                    f"'tcp://127.0.0.1:8786' or '127.0.0.1:8786', or None; got {self.client!r} of type "
                    f"{type(self.client).__name__}."
                )
        if self.security is not None and not isinstance(self.security, bool):
            from distributed.security import Security

            if not isinstance(self.security, Security):
                raise InvalidParameterTypeError(
                    f"{name}(security=...) must be a distributed.security.Security, True, False or None; "
                    f"got {self.security!r} of type {type(self.security).__name__}."
                )

    def __repr__(self) -> str:
        name = type(self).__name__
        memory = "" if isinstance(self.memory_limit, str) and self.memory_limit == "auto" else (
            f", memory_limit={self.memory_limit!r}")  # the workers' memory, as asked (stored with the search)
        if self._client is None:  # not started: what it will start or connect to; its capacity is not known yet
            if self.client is None:
                return f"{name}(LocalCluster{'' if self.n_workers is None else f', n_workers={self.n_workers}'}{memory})"
            if is_dask_cluster(self.client):  # the user's cluster: its kind and address
                return f"{name}({describe_cluster(self.client)})"
            return f"{name}({self.client!r})"
        where = self._address() or "LocalCluster"
        if is_dask_cluster(self.client):
            where = f"{type(self.client).__name__} at {where}"
        return f"{name}({where}, capacity={self.capacity}{memory})"

    def _named(self) -> str:
        """How errors name what this executor was given: ``executor='127.0.0.1:8786'`` for one that
        ``Search(executor=...)`` made, else ``DaskExecutor(client='127.0.0.1:8786')``."""
        value = describe_cluster(self.client) if is_dask_cluster(self.client) else f"{self.client!r:.100}"
        return f"executor={value}" if self._given_as == "executor" else f"{type(self).__name__}(client={value})"

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
        "__main__":`` (see :func:`check_can_start_local_cluster`). A ``distributed.Client`` or
        cluster object given must not be closed, nor asynchronous on this thread's event loop (``await
        Client(asynchronous=True)`` in a notebook). Cheap, starts nothing: the search calls it before it
        stores anything.
        """
        self._check_params()
        if self.client is None:
            problem = local_cluster_problem()
        elif self._client is None and not isinstance(self.client, str):
            problem = closed_problem(self.client)
            problem = problem and f"{self._named()}: {problem}"
        else:
            problem = None
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
                memory_limit=check_memory_limit(type(self).__name__, self.memory_limit),
                security=security, protocol="tls://" if security is not None else "tcp://",
            )

    def start(self, decide: Decide | None = None) -> None:
        if self._client is not None:
            return
        self.check()
        import dask
        from distributed import Client

        if self.client is None:
            if _quiet.exiting():  # a search left running in a thread, at interpreter exit
                raise ExecutorError(f"{type(self).__name__}: the interpreter is exiting; no cluster starts now.")
            _spawn_can_rerun_main()
            _quiet.hold()  # distributed's INFO lines stay hidden until this cluster has closed
            try:
                # allowed-failures is the scheduler's own setting, read when it starts: set for it only
                with dask.config.set({"distributed.scheduler.allowed-failures": self.allowed_failures}), gc_paused():
                    self._cluster = self._make_cluster()
                with gc_paused():
                    self._client = Client(self._cluster, set_as_default=False)
            except BaseException:
                if self._cluster is not None:
                    self._cluster.close()
                self._cluster = None
                _quiet.release()
                raise
            self._owns = self._quieted = True
            _quiet.register(self)  # closed at interpreter exit, before distributed's own hook, if still open
        elif isinstance(self.client, str):
            try:
                with gc_paused():
                    self._client = Client(self.client, timeout=self.connect_timeout_s, set_as_default=False,
                                          security=self.security if not isinstance(self.security, bool) else None)
            except (OSError, TimeoutError) as exc:
                local = "executor='dask'" if self._given_as == "executor" else "client=None"
                raise ExecutorError(
                    f"{self._named()}: no dask scheduler answered within {self.connect_timeout_s:g} s "
                    f"({type(exc).__name__}: {exc}). Start one with `dask scheduler` (and `dask worker ADDRESS`), "
                    f"or pass {local} for a local cluster."
                ) from None  # the message carries the connection error; its 3-deep traceback would not help
            self._owns = True
        elif is_dask_cluster(self.client):
            # a client of its own on the user's cluster (with the cluster's security): closed by close(),
            # which leaves the cluster alone (distributed closes a cluster only for a Client that made it)
            try:
                with gc_paused():
                    self._client = Client(self.client, timeout=self.connect_timeout_s, set_as_default=False)
            except (OSError, TimeoutError, RuntimeError) as exc:
                raise ExecutorError(
                    f"{self._named()}: its scheduler did not answer within {self.connect_timeout_s:g} s "
                    f"({type(exc).__name__}: {exc}). Pass a running cluster."
                ) from None
            self._owns = True
        else:
            client = self.client
            deadline = time.monotonic() + self.connect_timeout_s
            while client.status in ("newly-created", "connecting") and time.monotonic() < deadline:
                time.sleep(0.05)  # the client reconnects by itself after losing its scheduler
            if client.status != "running":
                raise ExecutorError(
                    f"{self._named()}: the distributed.Client is {client.status!r}, not connected to "
                    f"a scheduler. Pass a new Client, or the scheduler's address (it reconnects by itself)."
                )
            self._client = client
            self._owns = False
        self._next_check = 0.0
        self._no_workers_since = None
        try:
            self.capacity = max(1, sum(self._client.nthreads().values()))
            self._client.subscribe_topic(self._topic, self._on_report)
            self._loss_topics = free_topics(self._client)
            for topic in self._loss_topics:
                self._client.subscribe_topic(topic, self._losses.on_event)
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
                for topic in self._loss_topics:
                    self._client.unsubscribe_topic(topic)
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
        self._hung.clear()
        self._lost_reason = None
        if owns and client is not None:
            with contextlib.suppress(Exception), _quiet_reconnect_noise():
                client.close(timeout=min(5.0, self.connect_timeout_s))
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        if self._quieted:
            self._quieted = False
            _quiet.unregister(self)
            _quiet.release()

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
        """The ``distributed.Client`` trials are submitted through; starts the executor on first use."""
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
