"""The LocalCluster nasbook starts itself: TLS with credentials made for it (nobody else can connect
and run code in its workers), and dask settings scoped to it (the user's process keeps its own)."""

import os
import socket
import ssl
import sys

import cloudpickle
import pytest

import nasbook
from nasbook._errors import ExecutorError
from nasbook._gc import gc_paused
from nasbook.executors import DaskExecutor
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

pytest.importorskip("distributed")
pytest.importorskip("cryptography")  # distributed's Security.temporary() makes the credentials with it
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPACE = GraphSpace(ops=PROTEINS_OPS)
KEYS = ("distributed.scheduler.allowed-failures", "distributed.worker.profile.enabled",
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_")


@pytest.fixture(scope="module")
def started():
    """A started executor (allowed_failures unlike dask's default) and the dask settings seen before it."""
    import dask

    before = {k: dask.config.get(k, None) for k in KEYS}
    ex = DaskExecutor(n_workers=1, allowed_failures=7)
    ex.start()
    yield ex, before
    ex.close()


def _server_accepts(address, context):
    """Open a TLS connection with ``context`` and send a few bytes: True if the server keeps it open
    (no answer within 2 s: it waits for a dask message), False if it rejects the client."""
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the intruder trusts any server: only the server's check counts
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                tls.settimeout(2)
                tls.sendall(b"\0" * 8)
                return tls.recv(1) != b""
        except (ssl.SSLError, ConnectionError):
            return False
        except TimeoutError:
            return True


def test_the_local_cluster_accepts_only_its_own_clients(started):
    from distributed import Client
    from distributed.security import Security

    ex, _ = started
    address = ex.dask_client.scheduler.address
    assert address.startswith("tls://127.0.0.1:")
    workers = list(ex.dask_client.scheduler_info()["workers"])
    assert workers and all(w.startswith("tls://127.0.0.1:") for w in workers)
    def intrude(target, security):
        for _ in range(3):
            try:  # made with collections paused, as DaskExecutor does (gc_paused: a hang otherwise)
                with gc_paused():
                    intruder = Client(target, security=security, timeout=3, set_as_default=False)
                with intruder:
                    intruder.run(os.getpid)  # would run code in the workers
            except AssertionError:  # distributed's client IO loop did not start within its 10 s (a busy
                continue  # machine): no connection was even tried, so try again
            return

    for where in (address, *workers):
        for attempt in ({}, {"security": Security.temporary()}, {"address": where.replace("tls://", "tcp://")}):
            target = attempt.get("address", where)
            with pytest.raises((OSError, TimeoutError, ValueError, TypeError)):
                intrude(target, attempt.get("security"))
    # the server's side: a TLS client without a certificate, or with one of its own, is turned away;
    # the cluster's own credentials are let in
    own = ex.dask_client.security
    for where in (address, *workers):
        assert not _server_accepts(where, ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        assert not _server_accepts(where, Security.temporary().get_connection_args("client")["ssl_context"])
        assert _server_accepts(where, own.get_connection_args("client")["ssl_context"])
    # ... while the search works
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=4, seed=0, storage=":memory:", executor=ex).run()
    assert s.n_trials == 4 and all(t.state is TrialState.COMPLETE for t in s.trials)


def test_dask_settings_apply_to_the_local_cluster_only(started):
    import dask

    ex, before = started
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=":memory:", executor=ex).run()
    assert s.n_trials == 2
    assert {k: dask.config.get(k, None) for k in KEYS} == before  # the user's process: unchanged
    assert before["distributed.scheduler.allowed-failures"] != 7
    assert ex.dask_client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 7
    assert not any(ex.dask_client.run(lambda: dask.config.get("distributed.worker.profile.enabled")).values())


def test_without_cryptography_the_error_says_what_to_do(monkeypatch):
    import distributed.security

    def missing(*a, **k):
        raise ImportError("No module named 'cryptography'")

    monkeypatch.setattr(distributed.security.Security, "temporary", classmethod(missing))
    with pytest.raises(ExecutorError, match=r"pip install cryptography.*security=False"):
        DaskExecutor(n_workers=1).start()


def test_the_notebooks_environment_is_given_back_after_the_cluster_starts(monkeypatch):
    import os

    from nasbook.executors import DaskExecutor

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "7")
    ex = DaskExecutor(n_workers=1)
    try:
        ex.start()
        assert "OMP_NUM_THREADS" not in os.environ  # a nanny set it to 1 here to pass it on to its worker
        assert os.environ["MKL_NUM_THREADS"] == "7"
    finally:
        ex.close()
