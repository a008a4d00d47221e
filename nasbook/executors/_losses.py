"""Which workers died while a trial ran, and why, from distributed's own event log.

The scheduler logs a ``remove-worker`` event (topic ``"all"``) naming the tasks the worker was
processing, and a nanny that restarts its worker for using too much memory logs
``worker-restart-memory`` (the worker's address and its memory then). A :class:`WorkerLosses`
subscribed to both topics knows, for each trial, the workers it lost on the way: a trial that dask
re-ran after a worker died and that then finished keeps that in ``attrs["worker_deaths"]``, and
one that failed with ``KilledWorker`` names each death in its reason. Reading the log again when a
trial failed (:meth:`WorkerLosses.read`) covers events the subscription had not delivered yet.

It also keeps which attempt (and worker) reported each epoch (:meth:`WorkerLosses.on_report`), so the
epochs a lost attempt trained are known (:meth:`WorkerLosses.lost_epochs`): an epochs budget counts
them (``trial.attrs["lost_attempt_epochs"]``), since they were trained as surely as the stored ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the scheduler's topics read here
TOPICS = ("all", "worker-restart-memory")


class WorkerLosses:
    """Worker deaths of the tasks whose keys start with ``prefix`` (one executor's trials).

    A death counts for every trial the worker held, running or waiting its turn there: the
    scheduler counts it the same way towards ``allowed-failures``.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._deaths: dict[str, list[str]] = {}  # task key -> workers that died running it, in order
        self._memory: dict[str, int] = {}  # worker address -> bytes used when its nanny restarted it
        self._ended: set[str] = set()  # keys popped or forgotten: a later read() of the log skips them
        # task key -> attempt id -> (its worker, the epochs it reported), in the order the attempts first reported
        self._attempts: dict[str, dict[str, tuple[str, set[int]]]] = {}

    def on_event(self, event: tuple[float, Any]) -> None:
        """A subscription handler (runs on the client's event loop) for both :data:`TOPICS`."""
        msg = event[1]
        if not isinstance(msg, dict):
            return
        if msg.get("action") == "remove-worker":
            if msg.get("expected"):
                return  # closed on purpose (scaled down, cluster closed): its tasks were not at fault
            worker = str(msg.get("worker"))
            for key in msg.get("processing-tasks") or ():
                if str(key).startswith(self.prefix) and str(key) not in self._ended:
                    deaths = self._deaths.setdefault(str(key), [])
                    if worker not in deaths:
                        deaths.append(worker)
        elif "rss" in msg and "worker" in msg:  # worker-restart-memory
            self._memory[str(msg["worker"])] = int(msg.get("rss") or 0)

    def read(self, client: Any, timeout_s: float) -> None:
        """Read both topics' logs from the scheduler now (a round trip; for a trial that failed)."""
        for topic in TOPICS:
            try:
                events = client.sync(client.scheduler.events, topic=topic, callback_timeout=timeout_s)
            except Exception:  # noqa: BLE001 - the reason then says what the subscription saw
                continue
            for event in events or ():
                self.on_event(tuple(event))  # type: ignore[arg-type]

    def on_report(self, key: str, report: Mapping[str, Any]) -> None:
        """Note an epoch's report of ``key`` (a current submission's): which attempt, on which worker, trained it."""
        attempt = report.get("attempt")
        if attempt is not None and key not in self._ended:
            self._attempts.setdefault(key, {}).setdefault(str(attempt), (str(report.get("worker")), set()))[1].add(
                int(report["epoch"]))

    def lost_epochs(self, key: str) -> int:
        """Epochs trained by the lost attempts of ``key``: those run on a worker that died, or followed by a
        later attempt (dask re-runs a task only once its worker is gone). Each epoch an attempt reported counts
        once; one it trained but whose report the dying worker never sent is not known, so not counted."""
        attempts = self._attempts.get(key)
        if not attempts:
            return 0
        dead, last = set(self._deaths.get(key, ())), next(reversed(attempts))
        return sum(len(epochs) for attempt, (worker, epochs) in attempts.items() if attempt != last or worker in dead)

    def pop(self, key: str) -> list[str]:
        """What happened to each worker that died running ``key``, forgotten afterwards."""
        self._ended.add(key)
        self._attempts.pop(key, None)
        return [self._describe(worker) for worker in self._deaths.pop(key, [])]

    def _describe(self, worker: str) -> str:
        rss = self._memory.get(worker)
        if rss is not None:
            return f"{worker} ran out of memory (its nanny restarted it at {rss / 2**20:.0f} MiB, over its memory limit)"
        return f"{worker} died (its process was killed or crashed: see that worker's log)"

    def forget(self, key: str) -> None:
        self._ended.add(key)
        self._deaths.pop(key, None)
        self._attempts.pop(key, None)


def free_topics(client: Any) -> list[str]:
    """The :data:`TOPICS` a :class:`WorkerLosses` may subscribe to on ``client``: never one the user
    handles (a client has one handler per topic), but one a closed executor's left behind
    (``unsubscribe_topic`` stops the events and keeps the handler)."""
    handlers = getattr(client, "_event_handlers", {})
    return [t for t in TOPICS if t not in handlers or isinstance(getattr(handlers[t], "__self__", None), WorkerLosses)]
