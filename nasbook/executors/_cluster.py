"""Starting worker processes safely: the worker settings nasbook uses, scheduler addresses, and the
check that a script can start a LocalCluster at all (spawned workers re-run ``__main__``)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

from nasbook._errors import ExecutorError, InvalidParameterError


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
    * The workers ignore SIGINT (:mod:`nasbook.executors._nosigint`): Ctrl-C in a terminal reaches
      every process of the group; the search stops them itself, without their tracebacks.
    * A worker's heartbeat cut short by its own close is not logged as an error
      (:func:`nasbook.executors._quiet.dask_setup`).

    * The notebook's own environment is given back: a nanny copies its pre-spawn variables
      (``OMP_NUM_THREADS=1`` and friends) into *this* process's ``os.environ`` to hand them to the
      worker it spawns; they are restored once the cluster has started, so programs the user starts
      later are not pinned to one thread.

    Clusters you start yourself keep your settings; see the docs on executors.
    """
    import dask

    key = "MALLOC_TRIM_THRESHOLD_"
    dask_value = str(dask.config.get(f"distributed.nanny.pre-spawn-environ.{key}", None))
    held = os.environ.pop(key) if os.environ.get(key) == dask_value else None
    spawn_env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    before = {name: os.environ.get(name) for name in spawn_env if name != key}
    preload = [*(dask.config.get("distributed.worker.preload", None) or []), "nasbook.executors._nosigint",
               "nasbook.executors._quiet"]
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{key}": None,
                              "distributed.worker.profile.enabled": False,
                              "distributed.worker.preload": preload}):
            yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if held is not None:
            os.environ[key] = held


# -- checks before anything starts ------------------------------------------------------------------------
# a host name (RFC 1123 letters, digits, '-', '.'; '_' as some resolvers accept), an IPv4 address, or an
# IPv6 address (hex digits, ':' and an optional '%zone'): "tcp//host" (a scheme missing its colon) is none
_HOST = re.compile(r"[A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?")


def check_scheduler_address(address: str, param: str = "DaskExecutor(client=...)", also: str = "") -> None:
    """Raise :class:`InvalidParameterError` naming ``param`` unless ``address`` is a dask scheduler
    address as ``distributed.Client(address)`` reads it: ``"tcp://host:port"``, ``"tls://host:port"``,
    or ``"host:port"`` (dask's default scheme, tcp). ``also`` ends the message (the other values
    ``param`` takes)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    def bad(why: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"{param} must be a dask scheduler address such as 'tcp://127.0.0.1:8786' or '127.0.0.1:8786'{also}; "
            f"got {address!r} ({why})."
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
    if not host or not _HOST.fullmatch(host.strip("[]")):
        raise bad(f"host {host!r} is not a host name or IP address")
    if not 0 < int(port) < 65536:
        raise bad(f"port {port} is outside 1..65535")


def is_dask_cluster(value: Any) -> bool:
    """Whether ``value`` is a dask cluster object: a ``distributed.deploy.Cluster`` (``LocalCluster``,
    ``dask_cuda.LocalCUDACluster``, ``SpecCluster``, dask-jobqueue's, ...) or, by the rule
    ``distributed.Client(cluster)`` itself applies, any object with a string ``scheduler_address``.
    Imports nothing: an object of a module not yet imported cannot be one."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    cluster_module = sys.modules.get("distributed.deploy.cluster")
    if cluster_module is not None and isinstance(value, cluster_module.Cluster):
        return True
    try:
        return isinstance(getattr(value, "scheduler_address", None), str)
    except Exception:  # noqa: BLE001 - a property that fails: not a cluster we can use
        return False


def describe_cluster(cluster: Any) -> str:
    """``"LocalCluster at tcp://127.0.0.1:40123"``: what a repr says a cluster object is."""
    try:
        address = str(cluster.scheduler_address)
    except Exception:  # noqa: BLE001 - a closed or broken cluster
        address = "an unknown address"
    return f"{type(cluster).__name__} at {address}"


def closed_problem(client: Any) -> str | None:
    """Why a ``distributed.Client`` or cluster object given by the user cannot be used at all (it is
    closed or closing, or asynchronous on this thread's event loop; a Client reconnecting by itself is not
    refused here), or None."""
    status = getattr(client, "status", None)
    status = getattr(status, "name", status)  # a cluster's Status enum; a Client's string
    if status not in ("closing", "closed", "closing_gracefully", "failed"):
        return _asynchronous_problem(client)
    if is_dask_cluster(client):
        return (f"the cluster is {status}. Pass a running cluster (or its Client), or "
                "executor='dask' for a local cluster nasbook starts and closes itself.")
    return (f"the distributed.Client is {status}. Pass an open Client (or the cluster object, or the scheduler's "
            "address), or executor='dask' for a local cluster nasbook starts and closes itself.")


def _asynchronous_problem(client: Any) -> str | None:
    """An ``asynchronous=True`` Client or cluster whose event loop is this thread's (``await Client(
    asynchronous=True)`` in a notebook, or inside ``async def``): nasbook's blocking calls on it return
    coroutines (an AttributeError at ``run()``, the search already stored). dask's own ``asynchronous``
    property says so; one whose loop runs in another thread answers blocking calls, and is not refused."""
    try:
        asynchronous = client.asynchronous is True
    except Exception:  # noqa: BLE001 - an object without it (or a broken one): not refused here
        return None
    if not asynchronous:
        return None
    kind = "cluster" if is_dask_cluster(client) else "distributed.Client"
    return (f"the {kind} is asynchronous (made with asynchronous=True, its event loop running in this thread), and "
            "nasbook calls dask synchronously. Pass a synchronous Client or cluster (made without asynchronous=True), "
            "the scheduler's address ('tcp://host:8786'), or executor='dask' for a local cluster nasbook starts itself.")


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


def check_memory_limit(owner: str, value: Any) -> Any:
    """What a local cluster's ``memory_limit`` (per worker) gets for ``value``: ``"auto"`` (distributed's
    default, the machine's memory shared among the workers), None (no limit: ``value`` None or 0), or a
    number of bytes (an int > 0, or a string :func:`dask.utils.parse_bytes` reads as one, e.g. ``"4GiB"``).
    Anything else raises InvalidParameterError naming ``memory_limit``, what is allowed and what was given.

    The bytes are passed on, not the string: distributed reads a string such as ``"0.5"`` as a fraction of
    the machine's memory, :func:`~dask.utils.parse_bytes` as 0 bytes (refused here).
    """
    import numbers

    allowed = ("a number of bytes per worker (an int >= 0, or a string such as '4GiB' or '500MB'), 'auto' "
               "(the machine's memory shared among the workers, the default) or None (0 or None: no limit)")
    if value is None or value == "auto" and isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if int(value) < 0:
            raise InvalidParameterError(f"{owner}(memory_limit=...) must be {allowed}; got {value!r}, a negative number.")
        return int(value) or None
    if isinstance(value, str):
        from dask.utils import parse_bytes

        try:
            n = parse_bytes(value)
        except (ValueError, TypeError) as exc:
            raise InvalidParameterError(f"{owner}(memory_limit=...) must be {allowed}; got {value!r}, which is not a "
                                        f"size ({exc}).") from None
        if n <= 0:
            raise InvalidParameterError(f"{owner}(memory_limit=...) must be {allowed}; got {value!r}, which is "
                                        f"{n} bytes.")
        return int(n)
    raise InvalidParameterError(f"{owner}(memory_limit=...) must be {allowed}; got {value!r} of type "
                                f"{type(value).__name__}.")
