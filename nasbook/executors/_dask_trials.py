"""The trials of a :class:`~nasbook.executors.DaskExecutor`: submit, collect, poll, stop and cancel.

:class:`DaskTrials` is the base class of ``DaskExecutor`` (its life cycle, connection and parameters are in
:mod:`nasbook.executors._dask`): each trial is a dask future on the executor's client, its outcome is
fetched on the client's event loop and handed to :meth:`DaskTrials.poll` with the epochs' reports.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError
from nasbook.executors import _quiet
from nasbook.executors._base import BaseExecutor, ExecutorEvent
from nasbook.executors._worker import _mark_stopped, _remote_trial
from nasbook.trial import Outcome, TrialState

if TYPE_CHECKING:
    from distributed import Client, Future

    from nasbook.executors._hung import HungTrials
    from nasbook.executors._losses import WorkerLosses
    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


class DaskTrials(BaseExecutor):
    """Base of :class:`~nasbook.executors.DaskExecutor`: the trials it runs on its dask client (the
    executor's calls documented on :class:`~nasbook.executors.BaseExecutor`)."""

    if TYPE_CHECKING:  # set by DaskExecutor
        torch_threads: int
        allowed_failures: int
        connect_timeout_s: float
        _client: Client | None
        _futures: dict[int, Future]
        _tokens: dict[int, str]
        _wake: threading.Event
        _finished: deque[tuple[int, str, Outcome | None, BaseException | None]]
        _reports: deque[dict[str, Any]]
        _stopped: set[int]
        _lost_reason: str | None
        _uid: str
        _topic: str
        _losses: WorkerLosses
        _hung: HungTrials

        @property
        def dask_client(self) -> Client: ...

        def _address(self) -> str | None: ...

        def _lost(self, what: str) -> None: ...

        def _connection_problem(self) -> str | None: ...

    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture, fidelity: Mapping[str, Any] | None = None) -> None:
        client = self.dask_client
        problem = self._lost_reason or (
            f"lost its connection to the dask scheduler at {self._address()} (client {client.status})."
            if client.status != "running" else None)
        if problem is not None:
            self._lost(problem)
        self._hung.free(client)  # a worker that only a timed-out trial's hung thread holds is restarted (_hung.py)
        token = uuid.uuid4().hex[:8]  # a fresh stop flag per submission: a re-run starts unstopped
        self._tokens[number] = token
        self._stopped.discard(number)
        fut = client.submit(
            _remote_trial, task, space, arch, number, fidelity, self._topic, token,
            self.torch_threads, key=self._key(number, token), pure=False,
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

    def lost_epochs(self, number: int) -> int:
        token = self._tokens.get(number)
        return 0 if token is None or number not in self._futures else self._losses.lost_epochs(self._key(number, token))

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
            self._losses.on_report(self._key(number, item["token"]), item)  # which attempt trained it
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
            key = self._key(number, token)
            if error is not None:
                outcome = self._failure(number, error, key)
            elif outcome is not None:
                outcome.lost_attempt_epochs = self._losses.lost_epochs(key)  # trained by attempts lost with a worker
                if deaths := self._losses.pop(key):  # re-run by dask after a worker died
                    outcome.attempts, outcome.worker_deaths = len(deaths) + 1, tuple(deaths)
            events.append(ExecutorEvent("done", number, outcome=outcome))
        if lost is not None:
            if any(e.kind == "done" for e in events):
                self._lost_reason = lost  # hand over what finished; the next poll (or submit) raises
                return events
            self._lost(lost)
        return events

    def _key(self, number: int, token: str) -> str:
        return f"nasbook-trial-{self._uid}-{number}-{token}"

    def _failure(self, number: int, exc: BaseException, key: str) -> Outcome:
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            try:
                attempts = int(exc.allowed_failures) + 1  # the scheduler's own setting
            except (AttributeError, IndexError, TypeError, ValueError):  # pragma: no cover - older distributed
                attempts = self.allowed_failures + 1
            if self._client is not None:  # the scheduler's log: which workers died, and which ran out of memory
                self._losses.read(self._client, self.connect_timeout_s)
            lost = self._losses.lost_epochs(key)  # every attempt's: each worker died
            deaths = tuple(self._losses.pop(key))
            how = f": {'; '.join(deaths)}" if deaths else ""
            return Outcome(number, TrialState.FAILED, None,
                           f"its worker died {'once' if attempts == 1 else f'{attempts} times'} while running it "
                           f"(dask re-ran it on another worker each time){how}. KilledWorker: {exc}", attempts=attempts,
                           worker_deaths=deaths, lost_attempt_epochs=lost)
        if isinstance(exc, InvalidParameterError):
            raise exc  # the user's set-up is wrong: stop the search with the task's message
        return Outcome(number, TrialState.FAILED, None, f"{type(exc).__name__}: {exc}")

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
            _quiet.cancelled(str(fut.key))  # a gather of it in flight now fails, as meant: not an error to log
            fut.cancel()
            self._hung.add(str(fut.key), number)  # it may hold its thread on: looked at before the next submit
        token = self._tokens.pop(number, None)
        if token is not None:
            self._losses.forget(self._key(number, token))
