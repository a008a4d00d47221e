"""The two shutdown races that :mod:`nasbook.executors._quiet` silences, and only those: a worker's
heartbeat cut short by its own close, and the scheduler's failed gather of a trial nasbook cancelled."""

import logging

import pytest

from nasbook.executors import DaskExecutor, _quiet
from nasbook.executors._cluster import training_worker_config

distributed = pytest.importorskip("distributed")
from distributed.core import Status  # noqa: E402


class _Worker:  # what the filter reads of a distributed.Worker: its status
    def __init__(self, status):
        self.status = status


def _record(name, msg, *args):
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_heartbeat_failure_is_dropped_only_while_its_worker_closes():
    worker = _Worker(Status.running)
    f = _quiet._HeartbeatCutByClose(worker)
    heartbeat = _record("distributed.worker", _quiet.HEARTBEAT_FAILED)
    assert f.filter(heartbeat)  # a running worker that lost its scheduler: still said
    for status in (Status.closing, Status.closing_gracefully, Status.closed):
        worker.status = status
        assert not f.filter(heartbeat)
    assert f.filter(_record("distributed.worker", "Unexpected exception during heartbeat. Closing worker."))


def test_the_worker_preload_installs_one_filter_for_the_worker_it_sets_up():
    log = logging.getLogger("distributed.worker")
    before = list(log.filters)
    try:
        first, second = _Worker(Status.running), _Worker(Status.closing)
        _quiet.dask_setup(first)
        _quiet.dask_setup(second)  # a worker restarted in the same process
        ours = [f for f in log.filters if isinstance(f, _quiet._HeartbeatCutByClose)]
        assert len(ours) == 1 and ours[0]._worker() is second
    finally:
        log.filters[:] = before


def test_the_workers_nasbook_starts_preload_it():
    import dask

    with training_worker_config():
        assert "nasbook.executors._quiet" in dask.config.get("distributed.worker.preload")
    ex = DaskExecutor(n_workers=1)
    try:
        ex.start()

        def has_filter():
            return any(type(f).__name__ == "_HeartbeatCutByClose" for f in logging.getLogger("distributed.worker").filters)

        assert list(ex.dask_client.run(has_filter).values()) == [True]
    finally:
        ex.close()


def test_a_failed_gather_is_dropped_only_when_every_key_was_cancelled_by_nasbook():
    f = _quiet._CancelledGather()
    _quiet.cancelled("nasbook-trial-test-1-aaaa")
    assert not f.filter(_record("distributed.scheduler", _quiet.GATHER_FAILED, {"nasbook-trial-test-1-aaaa": "forgotten"}))
    assert f.filter(_record("distributed.scheduler", _quiet.GATHER_FAILED,
                            {"nasbook-trial-test-1-aaaa": "forgotten", "someone-elses": "memory"}))
    assert f.filter(_record("distributed.scheduler", _quiet.GATHER_FAILED, {"someone-elses": "forgotten"}))
    assert f.filter(_record("distributed.scheduler", "cannot schedule new futures after shutdown"))
    assert any(isinstance(x, _quiet._CancelledGather) for x in logging.getLogger("distributed.scheduler").filters)


def test_the_cancelled_keys_are_bounded(monkeypatch):
    monkeypatch.setattr(_quiet, "_MAX_CANCELLED", 3)
    monkeypatch.setattr(_quiet, "_cancelled", {})
    for i in range(5):
        _quiet.cancelled(f"k{i}")
    assert list(_quiet._cancelled) == ["k2", "k3", "k4"]
