"""DaskExecutor(memory_limit=...): the memory each worker of the local cluster it starts may use."""

import sys
import types

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.executors import DaskCudaExecutor, DaskExecutor, _resolve
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import open_storage
from nasbook.testing import ToyTask

pytest.importorskip("distributed")

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _worker_limits(ex):
    return sorted(w["memory_limit"] for w in ex.dask_client.scheduler_info()["workers"].values())


def test_the_workers_of_the_local_cluster_get_the_memory_limit_asked_for(tmp_path):
    from dask.utils import parse_bytes

    ex = DaskExecutor(n_workers=2, memory_limit="600MiB")
    assert repr(ex) == "DaskExecutor(LocalCluster, n_workers=2, memory_limit='600MiB')"  # before it starts
    with ex:  # starts it
        assert _worker_limits(ex) == [parse_bytes("600MiB")] * 2 == [629145600] * 2  # the scheduler's own record
        started = repr(ex)
        assert started.endswith("capacity=2, memory_limit='600MiB')")
        nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=tmp_path / "m.db", name="m",
                       executor=ex).run(progress="none")
    st = open_storage(tmp_path / "m.db", create=False)
    try:
        assert st.get_search("m").config["executor"] == started  # stored with the search, as shown
    finally:
        st.close()


def test_no_memory_limit_and_the_default(tmp_path):
    with DaskExecutor(n_workers=1, memory_limit=0) as ex:
        assert _worker_limits(ex) in ([0], [None])  # no limit: the worker never pauses nor is restarted for memory
        assert repr(ex).endswith("capacity=1, memory_limit=0)")
    assert "memory_limit" not in repr(DaskExecutor())  # "auto", distributed's default: as before
    assert DaskExecutor(memory_limit=np.int64(2**30)).memory_limit == 2**30
    assert type(DaskExecutor(memory_limit=np.int64(2**30)).memory_limit) is int  # stored as JSON


@pytest.mark.parametrize(("value", "why"), [
    (-1, r"got -1, a negative number"),
    ("-4GiB", r"got '-4GiB', which is -4294967296 bytes"),
    ("lots", r"got 'lots', which is not a size"),
    ("0.5", r"got '0.5', which is 0 bytes"),
    (0.5, r"got 0.5 of type float"),
    (True, r"got True of type bool"),
])
def test_a_bad_memory_limit_is_refused_naming_it(value, why):
    with pytest.raises(InvalidParameterError, match=r"DaskExecutor\(memory_limit=\.\.\.\) must be a number of bytes "
                       r"per worker .*'4GiB'.*'auto'.*None.*" + why):
        DaskExecutor(memory_limit=value)


def test_memory_limit_is_refused_for_an_existing_cluster():
    with pytest.raises(InvalidParameterError, match=r"DaskExecutor\(memory_limit='4GiB'\) sets the memory limit.*"
                       r"client='tcp://127.0.0.1:8786'.*--memory-limit.*client=None"):
        DaskExecutor("tcp://127.0.0.1:8786", memory_limit="4GiB")
    assert DaskExecutor("tcp://127.0.0.1:8786", memory_limit="auto").memory_limit == "auto"  # the default


def test_the_gpu_cluster_gets_the_memory_limit(monkeypatch):
    seen = {}

    class LocalCUDACluster:  # records what dask-cuda would be given, starts nothing
        def __init__(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setitem(sys.modules, "dask_cuda", types.SimpleNamespace(LocalCUDACluster=LocalCUDACluster))
    monkeypatch.setattr(_resolve, "_count_gpus", lambda: 1)
    DaskCudaExecutor(memory_limit="8GiB")._make_cluster()
    assert seen["memory_limit"] == 8 * 2**30
    DaskCudaExecutor(memory_limit=None)._make_cluster()
    assert seen["memory_limit"] is None
    with pytest.raises(InvalidParameterError, match=r"DaskCudaExecutor\(memory_limit=\.\.\.\).*got 'x'"):
        DaskCudaExecutor(memory_limit="x")
