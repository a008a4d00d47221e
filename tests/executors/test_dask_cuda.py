"""DaskCudaExecutor and executor="auto" without a GPU: what nasbook hands dask-cuda, checked against
dask-cuda's documented rules (a fake ``dask_cuda`` module records the call); the run on real GPUs is
the ``gpu``-marked test at the end (it skips here)."""

from __future__ import annotations

import importlib.machinery
import os
import sys
import types

import pytest

import nasbook
from nasbook._errors import ExecutorError
from nasbook.executors import DaskCudaExecutor, DaskExecutor, resolve_executor
from nasbook.trial import TrialState


class _LazyTorch:
    """torch, imported on first use: collecting the suite imports no heavy library (tests/test_collection.py)."""

    def __getattr__(self, name):
        if name.startswith("_"):  # pytest's collection probes attributes (__test__, _pytestfixturefunction...)
            raise AttributeError(name)
        return getattr(pytest.importorskip("torch"), name)


torch = _LazyTorch()


def _fake_dask_cuda(monkeypatch, seen):
    """A LocalCUDACluster that picks its GPUs as dask-cuda 26.x does (``local_cuda_cluster.py``): the
    ``CUDA_VISIBLE_DEVICES`` given, else this process's, else ``range(n_gpus)``; the first
    ``n_workers`` of them; worker i's variable is the list rotated to start at its GPU. Starts nothing."""

    class LocalCUDACluster:
        def __init__(self, CUDA_VISIBLE_DEVICES=None, n_workers=None, **kwargs):
            visible = CUDA_VISIBLE_DEVICES
            if visible is None:
                visible = os.environ.get("CUDA_VISIBLE_DEVICES") or ",".join(map(str, range(torch.cuda.device_count())))
            if isinstance(visible, str):
                visible = visible.split(",")
            visible = [str(v) for v in visible]
            n = len(visible) if n_workers is None else n_workers
            if n > len(visible):
                raise ValueError("Can not scale beyond visible devices")
            options = dict(kwargs)  # as dask-cuda sets its workers' options: its own preload, with argv
            options["preload"] = options.get("preload", []) + ["dask_cuda.initialize"]
            options["preload_argv"] = options.get("preload_argv", []) + ["--create-cuda-context", "--protocol", "tcp"]
            seen.update(kwargs, workers=[",".join(visible[i:] + visible[:i]) for i in range(n)], options=options)

    module = types.ModuleType("dask_cuda")
    module.LocalCUDACluster = LocalCUDACluster  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dask_cuda", module)


def _gpus(monkeypatch, n):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)

    def poisons_fork():  # cudaGetDeviceCount -> cuInit in the notebook's process
        raise AssertionError("torch.cuda.is_available() initialises CUDA in the client")

    monkeypatch.setattr(torch.cuda, "is_available", poisons_fork)


def test_auto_is_one_worker_per_gpu_where_there_are_gpus_and_counts_them_without_cuda(monkeypatch):
    _gpus(monkeypatch, 2)
    assert type(resolve_executor("auto")) is DaskCudaExecutor
    _gpus(monkeypatch, 0)
    assert type(resolve_executor("auto")) is DaskExecutor


def test_each_gpu_worker_leads_with_its_own_gpu(monkeypatch):
    seen: dict = {}
    _fake_dask_cuda(monkeypatch, seen)
    _gpus(monkeypatch, 4)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    DaskCudaExecutor()._make_cluster()
    assert seen["workers"] == ["0,1,2,3", "1,2,3,0", "2,3,0,1", "3,0,1,2"]
    assert seen["host"] == "127.0.0.1" and seen.get("threads_per_worker", 1) == 1  # one trial per GPU
    DaskCudaExecutor(n_workers=2)._make_cluster()
    assert [w.split(",")[0] for w in seen["workers"]] == ["0", "1"]
    DaskCudaExecutor(n_workers=9)._make_cluster()  # more than there are: every GPU, no error
    assert len(seen["workers"]) == 4


def test_n_workers_takes_the_gpus_this_process_was_given_not_gpus_0_and_1(monkeypatch):
    # CUDA_VISIBLE_DEVICES=2,3 (a shared box, a scheduler's allocation): NVML counts 2 GPUs; passing
    # CUDA_VISIBLE_DEVICES=[0, 1] to dask-cuda would have put the workers on someone else's GPUs 0 and 1
    seen: dict = {}
    _fake_dask_cuda(monkeypatch, seen)
    _gpus(monkeypatch, 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    DaskCudaExecutor(n_workers=1)._make_cluster()
    assert seen["workers"] == ["2,3"]
    DaskCudaExecutor(n_workers=2)._make_cluster()
    assert seen["workers"] == ["2,3", "3,2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa,GPU-bbbb")  # UUIDs (MIG slices, shared nodes)
    DaskCudaExecutor(n_workers=1)._make_cluster()
    assert seen["workers"] == ["GPU-aaaa,GPU-bbbb"]


def test_gpu_workers_load_nasbooks_preloads_too(monkeypatch):
    # a nanny given a preload list (dask-cuda's) ignores distributed.worker.preload: nasbook's preloads
    # (workers ignore Ctrl-C, a quiet shutdown) were lost on GPU workers
    from distributed import Nanny

    seen: dict = {}
    _fake_dask_cuda(monkeypatch, seen)
    _gpus(monkeypatch, 1)
    DaskCudaExecutor()._make_cluster()
    opts = seen["options"]
    nanny = Nanny("tcp://127.0.0.1:1", preload=opts["preload"], preload_argv=opts["preload_argv"])  # not started
    assert {"nasbook.executors._nosigint", "nasbook.executors._quiet", "dask_cuda.initialize"} <= set(nanny.preload)
    from distributed.preloading import process_preloads

    mods = process_preloads(nanny, [p for p in nanny.preload if p.startswith("nasbook.")], nanny.preload_argv)
    assert [m.name for m in mods] == ["nasbook.executors._nosigint", "nasbook.executors._quiet"]  # dask-cuda's argv: fine


def test_a_dask_cuda_that_cannot_be_imported_is_told_apart_from_a_missing_one(monkeypatch):
    _gpus(monkeypatch, 1)
    monkeypatch.setitem(sys.modules, "dask_cuda", None)  # not installed
    with pytest.raises(ExecutorError, match=r"needs dask-cuda: pip install 'nasbook\[gpu-cu12\]' \(gpu-cu13"):
        DaskCudaExecutor()._make_cluster()
    broken = types.ModuleType("dask_cuda")  # installed, but its import fails (cuda.core without cuda-bindings)
    broken.__spec__ = importlib.machinery.ModuleSpec("dask_cuda", None)
    monkeypatch.setitem(sys.modules, "dask_cuda", broken)
    with pytest.raises(ExecutorError, match=r"dask-cuda is installed but cannot be imported \(ImportError: .*"
                                            r"LocalCUDACluster.*pip install 'dask-cuda\[cu12\]' \(or \[cu13\]\)"):
        DaskCudaExecutor()._make_cluster()


@pytest.mark.gpu
def test_auto_trains_each_trial_on_its_own_gpu(tmp_path):
    pytest.importorskip("dask_cuda")
    if torch.cuda.device_count() == 0:
        pytest.skip("no CUDA GPU")
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    class WhereDigits(Digits):  # defined here: pickled by value to the workers
        def evaluate(self, arch, **kwargs):
            import torch as t

            res = super().evaluate(arch, **kwargs)
            res.attrs.update(gpu_uuid=str(t.cuda.get_device_properties(0).uuid),
                             visible=os.environ.get("CUDA_VISIBLE_DEVICES", ""),
                             gpu_bytes=int(t.cuda.max_memory_allocated(0)), n_visible=t.cuda.device_count())
            return res

    initialised = torch.cuda.is_initialized()
    n = min(2, torch.cuda.device_count())
    s = nasbook.Search(CellSpace(), WhereDigits(max_epochs=1, accelerator="auto"), budget=n, seed=0,
                       storage=tmp_path / "gpu.db", executor="auto")
    try:
        s.run(progress="none")
        assert type(s.executor).__name__ == "DaskCudaExecutor"
        trials = s.trials
    finally:
        s.close()
    assert torch.cuda.is_initialized() == initialised  # the notebook's process never touched CUDA
    assert [t.state for t in trials] == [TrialState.COMPLETE] * n
    assert all(t.attrs["gpu_bytes"] > 0 for t in trials)  # trained on the worker's device 0 ...
    assert all(t.attrs["n_visible"] == torch.cuda.device_count() for t in trials)
    assert len({t.attrs["gpu_uuid"] for t in trials}) == n  # ... which is a different GPU for each worker
    assert len({t.attrs["visible"].split(",")[0] for t in trials}) == n
