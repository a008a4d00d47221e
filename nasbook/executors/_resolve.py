"""``DaskCudaExecutor`` (one worker per GPU) and :func:`resolve_executor` (names, addresses, clients,
cluster objects)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any

from nasbook._errors import ExecutorError, InvalidParameterError
from nasbook.executors._base import BaseExecutor
from nasbook.executors._cluster import (
    check_memory_limit,
    check_scheduler_address,
    is_dask_cluster,
    local_cluster_problem,
    training_worker_config,
)
from nasbook.executors._dask import DaskExecutor


class DaskCudaExecutor(DaskExecutor):
    """One dask worker per GPU (``dask_cuda.LocalCUDACluster``), one trial per GPU.

    dask-cuda gives each worker its own ``CUDA_VISIBLE_DEVICES``: every GPU of the list, rotated so
    that the worker's own GPU comes first (worker 1 of 4: ``"1,2,3,0"``). A trial's Trainer uses
    one device (``devices=1``), the first visible one, so a task with ``accelerator="auto"`` (or
    ``"gpu"``) trains on its worker's own GPU; a task left at ``accelerator="cpu"`` (the default)
    trains on the CPU. Needs dask-cuda (``pip install 'nasbook[gpu-cu12]'``, or ``gpu-cu13``; see
    the README's "GPU machines") and an NVIDIA GPU. Its cluster listens on 127.0.0.1 over plain
    TCP (``security`` is not used here yet: dask-cuda's TLS set-up is untested).

    Parameters
    ----------
    client : distributed.Client, cluster object, str or None
        As for :class:`DaskExecutor`: an existing client, cluster object (a
        ``LocalCUDACluster`` you started, say) or scheduler address (then no GPU cluster is
        started), or None to start the ``LocalCUDACluster``.
    n_workers : int or None
        GPUs to use, the first ``min(n_workers, GPU count)`` of those this process sees (a
        ``CUDA_VISIBLE_DEVICES`` set before the search is respected); None uses every one.
    memory_limit : int, str or None
        The host memory each GPU worker may use, as for :class:`DaskExecutor` (bytes, ``"4GiB"``,
        ``"auto"``, 0 or None for no limit); refused with ``client``.
    torch_threads : int
        ``torch.set_num_threads`` in each trial (default 1); 0 leaves torch's own default.
    connect_timeout_s : float
        How long to wait for the scheduler to answer, in seconds.
    no_workers_timeout_s : float or None
        How long trials may wait while the scheduler has no worker before the search stops with
        :class:`~nasbook.ExecutorError`, in seconds (None: wait forever).
    allowed_failures : int
        Worker deaths a trial survives before it FAILS (as for :class:`DaskExecutor`).
    security : distributed.security.Security, bool or None
        Not used by the GPU cluster (see above); kept for a scheduler address, as for
        :class:`DaskExecutor`.
    """

    def _make_cluster(self) -> Any:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError as exc:
            # dask-cuda >= 25.10 imports cuda.core, which needs cuda-bindings: only its cu12 / cu13 extra installs them
            installed = _installed("dask_cuda")
            what = (f"dask-cuda is installed but cannot be imported ({type(exc).__name__}: {exc}); with pip, install "
                    "the extra matching your torch's CUDA major version: pip install 'dask-cuda[cu12]' (or [cu13])"
                    if installed else "DaskCudaExecutor needs dask-cuda: pip install 'nasbook[gpu-cu12]' (gpu-cu13 for "
                    "a CUDA 13 torch)")
            raise ExecutorError(f"{what}, or conda install -c rapidsai -c conda-forge dask-cuda. "
                                "See the README, 'GPU machines'.") from exc
        n_gpus = _count_gpus()
        if n_gpus == 0:
            raise ExecutorError("DaskCudaExecutor found no NVIDIA GPU on this machine; use DaskExecutor() (CPU) instead.")
        kwargs: dict[str, Any] = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0", "silence_logs": logging.ERROR}
        kwargs["memory_limit"] = check_memory_limit(type(self).__name__, self.memory_limit)
        if self.n_workers is not None:
            # n_workers, not CUDA_VISIBLE_DEVICES=[0, 1, ...]: dask-cuda then takes the first GPUs of the
            # CUDA_VISIBLE_DEVICES this process has (indices or UUIDs), not physical GPUs 0, 1, ...
            kwargs["n_workers"] = min(self.n_workers, n_gpus)
        with training_worker_config():
            # dask-cuda gives its workers preload=[..., "dask_cuda.initialize"] itself, and a worker (its nanny)
            # given a preload list ignores the config's distributed.worker.preload: nasbook's preloads (SIGINT
            # ignored, quiet shutdown) and the user's go in that list (their dask_setup ignores dask-cuda's argv)
            import dask

            kwargs["preload"] = list(dask.config.get("distributed.worker.preload", None) or [])
            return LocalCUDACluster(**kwargs)


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ValueError, ImportError):  # a module in sys.modules without a spec
        return name in sys.modules and sys.modules[name] is not None


def _count_gpus() -> int:
    """The CUDA GPUs this process sees, counted without initialising CUDA here.

    ``torch.cuda.device_count()`` asks NVML (it respects ``CUDA_VISIBLE_DEVICES``), where
    ``torch.cuda.is_available()`` would call ``cudaGetDeviceCount`` and so ``cuInit``: a process
    that has initialised CUDA cannot fork children that use it (dask's
    ``multiprocessing-method: fork``), and the notebook process never trains on a GPU for dask.
    A CPU-only torch build counts 0.
    """
    try:
        import torch

        return int(torch.cuda.device_count())
    except Exception:  # pragma: no cover
        return 0


def resolve_executor(executor: Any) -> BaseExecutor:
    """The executor that a search's ``executor=`` argument names.

    A dask executor is checked here (:meth:`DaskExecutor.check`), so that a search that could not
    start its cluster fails before it stores anything.

    Parameters
    ----------
    executor : str, distributed.Client, cluster object, BaseExecutor or None
        ``"local"`` or None (in-process), ``"dask"`` (a CPU ``LocalCluster``), ``"dask-cuda"``,
        ``"auto"`` (dask-cuda when GPUs exist, else a CPU cluster), a scheduler address as dask
        reads it (``"tcp://host:8786"``, ``"tls://host:8786"``, or ``"host:8786"``: tcp; a name
        above is never read as a host), a ``distributed.Client``, a dask cluster object (any
        ``distributed.deploy.Cluster``: ``LocalCluster``, ``LocalCUDACluster``, dask-jobqueue's,
        ...; it stays yours: the executor closes only the client it opens on it), or an executor
        instance (returned as is). Anything else raises InvalidParameterError naming what is
        allowed.

    Returns
    -------
    BaseExecutor
        A new executor (or the instance given), not started yet.
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
        if ":" in executor:  # an address, as dask reads it: "tcp://host:8786", or "host:8786" (tcp)
            check_scheduler_address(executor, "executor", "" if "://" in executor else f", or one of {_NAMES}")
            return _given_to_search(DaskExecutor(executor))
        raise unknown_choice("executor", executor, ("local", "dask", "dask-cuda", "auto"),
                             "A scheduler address works too, with its port: 'tcp://127.0.0.1:8786' or "
                             "'127.0.0.1:8786'.")
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        Client = ()  # type: ignore[assignment,misc]
    if isinstance(executor, Client) or is_dask_cluster(executor):
        return _given_to_search(DaskExecutor(executor))
    raise InvalidParameterError(
        f"executor must be 'local', 'dask', 'dask-cuda', 'auto', a scheduler address, a distributed.Client, "
        f"a dask cluster object (LocalCluster, SpecCluster, ...: any distributed.deploy.Cluster) or an executor "
        f"instance; got {executor!r} of type {type(executor).__name__}."
    )


_NAMES = "'local', 'dask', 'dask-cuda', 'auto'"


def _given_to_search(executor: DaskExecutor) -> DaskExecutor:
    """``executor`` with its errors naming ``executor=...``, the parameter the user passed."""
    executor._given_as = "executor"
    return executor
