"""What users hand to ``Search(executor=...)`` and ``DaskExecutor(client=...)`` as dask would take it: a
cluster object of their own (left running), a ``"host:port"`` address without ``tcp://``, and closed ones
(refused at once, naming the parameter). One in-process LocalCluster on tcp://127.0.0.1 serves them all."""

import socket
import sys

import cloudpickle
import pytest

import nasbook
from nasbook._errors import ExecutorError, InvalidParameterError
from nasbook.executors import DaskExecutor, resolve_executor
from nasbook.search import TrialState
from nasbook.storage import Storage
from nasbook.tasks import NasBenchGraph

distributed = pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def cluster():
    """The user's cluster: one in-process worker with two threads, reachable over tcp."""
    c = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1",
                                 protocol="tcp://", dashboard_address="127.0.0.1:0")
    yield c
    c.close()


def _still_open(cluster):
    """The cluster answers a new client after the search closed (and nasbook's own client is gone)."""
    assert cluster.status.name == "running"
    with distributed.Client(cluster, set_as_default=False) as c:
        assert c.submit(lambda x: x + 1, 1).result(timeout=30) == 2


def _host_port(cluster) -> str:
    address = cluster.scheduler_address
    assert address.startswith("tcp://")
    return address[len("tcp://"):]


def _tiny_search(executor):
    s = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=4, seed=0, storage=":memory:",
                       executor=executor)
    s.run(progress="none")
    assert s.n_trials == 4 and {t.state for t in s.trials} == {TrialState.COMPLETE}
    return s


@pytest.mark.parametrize("form", ["search", "executor"])
def test_a_users_cluster_object_runs_the_search_and_stays_open(cluster, form):
    given = cluster if form == "search" else DaskExecutor(cluster)
    s = _tiny_search(given)
    ex = s.executor
    assert isinstance(ex, DaskExecutor) and ex.client is cluster and ex.capacity == 2
    assert f"LocalCluster at {cluster.scheduler_address}, capacity=2" in repr(ex)  # what it runs on
    own = ex._client
    assert own is not None and own.status == "running"
    s.close()
    assert own.status == "closed"  # the client nasbook opened on the cluster is closed ...
    _still_open(cluster)  # ... the cluster is not
    s2 = _tiny_search(given)  # the same cluster serves the next search (or the same executor, again)
    s2.close()
    _still_open(cluster)


def test_two_searches_side_by_side_on_one_cluster_object(cluster):
    # each Search(executor=cluster) gets its own DaskExecutor and client: both run at once
    searches = [nasbook.Search(NasBenchGraph("cora"), budget=4, seed=seed, storage=":memory:", executor=cluster)
                for seed in (0, 1)]
    for s in searches:
        s.start(progress="none")
    for s in searches:
        s.wait(timeout_s=120)
        assert s.n_trials == 4 and {t.state for t in s.trials} == {TrialState.COMPLETE}
    assert searches[0].executor is not searches[1].executor
    for s in searches:
        s.close()
    _still_open(cluster)


def test_a_cluster_objects_repr_before_start_says_what_it_is():
    class FakeCluster:  # what distributed.Client(cluster) itself accepts: a string scheduler_address
        scheduler_address = "tcp://10.0.0.5:8786"
        status = "running"

    assert repr(DaskExecutor(FakeCluster())) == "DaskExecutor(FakeCluster at tcp://10.0.0.5:8786)"
    assert repr(resolve_executor(FakeCluster())) == "DaskExecutor(FakeCluster at tcp://10.0.0.5:8786)"


@pytest.mark.parametrize("form", ["search", "executor"])
def test_host_port_without_tcp_runs_the_search(cluster, form):
    address = _host_port(cluster)  # "127.0.0.1:PORT", as `Client("127.0.0.1:PORT")` takes it
    s = _tiny_search(address if form == "search" else DaskExecutor(address))
    assert repr(s.executor).startswith(f"DaskExecutor({cluster.scheduler_address}, capacity=2")
    s.close()
    _still_open(cluster)


@pytest.mark.parametrize("name, kind", [
    ("local", "LocalExecutor"), ("dask", "DaskExecutor"), ("dask-cuda", "DaskCudaExecutor"),
    ("127.0.0.1:8786", "DaskExecutor"), ("localhost:8786", "DaskExecutor"), ("[::1]:8786", "DaskExecutor"),
    ("scheduler:8786", "DaskExecutor"), ("tls://10.0.0.5:8786", "DaskExecutor"),
])
def test_names_and_host_port_addresses_resolve(name, kind):
    ex = resolve_executor(name)
    assert type(ex).__name__ == kind
    if ":" in name:
        assert ex.client == name


@pytest.mark.parametrize("text, match", [
    ("127.0.0.1", r"Unknown executor '127.0.0.1'.*with its port: 'tcp://127.0.0.1:8786' or '127.0.0.1:8786'"),
    ("gpu", r"Unknown executor 'gpu'. Available: 'auto', 'dask', 'dask-cuda', 'local'"),
    ("locl", r"Unknown executor 'locl'.*did you mean 'local'"),
    ("127.0.0.1:notaport", r"^executor must be a dask scheduler address .*or one of 'local', 'dask'.*"
                           r"got '127.0.0.1:notaport' \(no valid port number"),
    ("dask:cuda", r"^executor must be a dask scheduler address.*got 'dask:cuda'"),
    ("127.0.0.1:0", r"^executor must be .*got '127.0.0.1:0' \(port 0 is outside 1..65535\)"),
    ("::1", r"^executor must be .*ipv6 needs brackets"),
    # a scheme missing its colon read as a host with a slash in it: was accepted, then hung at run()
    ("tcp//127.0.0.1:8786", r"^executor must be .*got 'tcp//127.0.0.1:8786' \(host 'tcp//127.0.0.1' is not a host name"),
    ("tcp:/127.0.0.1:8786", r"^executor must be .*got 'tcp:/127.0.0.1:8786'"),
    ("my host:8786", r"^executor must be .*got 'my host:8786' \(host 'my host' is not a host name"),
])
def test_nonsense_strings_are_refused_naming_executor(text, match, tmp_path):
    path = tmp_path / "bad.db"
    with pytest.raises(InvalidParameterError, match=match):
        nasbook.Search(NasBenchGraph("cora"), storage=path, executor=text)
    assert not path.exists() or Storage(path).search_names() == []


def test_closed_client_and_cluster_are_refused_before_anything_is_stored(tmp_path):
    own = distributed.LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0")
    client = distributed.Client(own, set_as_default=False)
    client.close()
    own.close()
    path = tmp_path / "closed.db"
    with pytest.raises(ExecutorError, match=r"^executor=<Client: .*>: the distributed.Client is closed\. Pass an open"):
        nasbook.Search(NasBenchGraph("cora"), storage=path, executor=client)
    with pytest.raises(ExecutorError, match=r"^executor=LocalCluster at \S+: the cluster is closed\. Pass a running"):
        nasbook.Search(NasBenchGraph("cora"), storage=path, executor=own)
    with pytest.raises(ExecutorError, match=r"^DaskExecutor\(client=LocalCluster at \S+\): the cluster is closed"):
        DaskExecutor(own).start()
    assert not path.exists() or Storage(path).search_names() == []
    nasbook.Search(NasBenchGraph("cora"), budget=2, storage=path, name="kept").run(progress="none")
    for closed in (client, own):  # load_search(executor=...) refuses them as Search() does, not at run()
        with pytest.raises(ExecutorError, match=r"^executor=.* is closed"):
            nasbook.load_search("kept", path, budget=4, executor=closed)
    assert nasbook.load_search("kept", path).n_trials == 2


def test_a_host_port_nobody_answers_is_named_as_given(monkeypatch):
    # a scheduler that is not running fails after connect_timeout_s (10 s by default, not dask's 30 s);
    # here the connection is refused at once, to check what the error names
    def refused(*args, **kwargs):
        assert kwargs["timeout"] == 10.0
        raise OSError("connection refused")

    monkeypatch.setattr(distributed, "Client", refused)
    s = nasbook.Search(NasBenchGraph("cora"), budget=2, storage=":memory:", executor="127.0.0.1:9")
    with pytest.raises(ExecutorError, match=r"^executor='127.0.0.1:9': no dask scheduler answered within 10 s "
                                            r"\(OSError: connection refused\).*or pass executor='dask'"):
        s.run(progress="none")
    s.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_host_port_nobody_listens_on_fails_within_connect_timeout():
    with pytest.raises(ExecutorError, match=r"^DaskExecutor\(client='127.0.0.1:\d+'\): no dask scheduler answered "
                                            r"within 1 s"):
        DaskExecutor(f"127.0.0.1:{_free_port()}", connect_timeout_s=1).start()


def test_an_asynchronous_client_or_cluster_is_refused_before_anything_is_stored(tmp_path):
    """``await Client(asynchronous=True)`` (a notebook, an ``async def``) was taken: ``run()`` then failed with
    "AttributeError: 'coroutine' object has no attribute 'values'" (the cluster: "'NoneType' object has no
    attribute 'ncores'"), the search already stored (h-execdur (b))."""
    import asyncio

    path = tmp_path / "async.db"
    nasbook.Search(NasBenchGraph("cora"), budget=2, storage=path, name="kept").run(progress="none")
    seen = []

    async def main():
        async with distributed.LocalCluster(n_workers=1, processes=False, asynchronous=True,
                                            dashboard_address="127.0.0.1:0") as own:
            async with distributed.Client(own, asynchronous=True) as client:
                for given, what, kind in ((client, r"<Client: .*>", r"distributed\.Client"), (own, r"LocalCluster at \S+", "cluster")):
                    problem = (rf"the {kind} is asynchronous \(made with asynchronous=True, its event loop running in "
                               r"this thread\), and nasbook calls dask synchronously\. Pass a synchronous Client or cluster")
                    with pytest.raises(ExecutorError, match=rf"^executor={what}: {problem}"):
                        nasbook.Search(NasBenchGraph("cora"), budget=2, storage=path, name="new", executor=given)
                    with pytest.raises(ExecutorError, match=rf"^executor={what}: {problem}"):
                        nasbook.load_search("kept", path, budget=4, executor=given)
                    with pytest.raises(ExecutorError, match=rf"^DaskExecutor\(client={what}\): {problem}"):
                        nasbook.Search(NasBenchGraph("cora"), budget=2, storage=path, name="new", executor=DaskExecutor(given))
                    seen.append(kind)

    asyncio.run(main())
    assert len(seen) == 2
    assert Storage(path).search_names() == ["kept"] and nasbook.load_search("kept", path).budget.trials == 2


def test_an_asynchronous_client_on_another_threads_loop_is_accepted():
    """One whose event loop runs in another thread answers blocking calls (a search runs on it): not refused."""
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make():
        own = await distributed.LocalCluster(n_workers=1, processes=False, asynchronous=True, dashboard_address="127.0.0.1:0")
        return own, await distributed.Client(own, asynchronous=True)

    own, client = asyncio.run_coroutine_threadsafe(make(), loop).result(60)
    try:
        for given in (client, own):
            nasbook.Search(NasBenchGraph("cora"), budget=2, storage=":memory:", executor=given).close()
    finally:
        client.close()  # blocking calls from this thread, as nasbook's
        own.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
