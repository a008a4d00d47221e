"""What runs on a dask worker: one trial, its reports as dask events, and STOP flags."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nasbook.executors._base import evaluate_trial
from nasbook.trial import Decision, Outcome

if TYPE_CHECKING:
    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


#: submission tokens a STOP has reached, in each worker process (set by :func:`_mark_stopped`)
_STOPPED: set[str] = set()


async def _mark_stopped(token: str) -> None:
    """Runs on every worker's event loop (``Client.run``): trials submitted under ``token`` stop at
    their next report. A coroutine, so the broadcast need not wait for it (``wait=False``)."""
    _STOPPED.add(token)
    if len(_STOPPED) > 10_000:  # tokens of trials that had already ended when their STOP came
        _STOPPED.clear()
        _STOPPED.add(token)


def _remote_trial(
    task: Task,
    space: SearchSpace,
    arch: Architecture,
    number: int,
    fidelity: Mapping[str, Any] | None,
    topic: str,
    token: str,
    torch_threads: int,
) -> Outcome:
    """Runs on a worker: evaluate, stream each epoch's report, obey a STOP.

    Reports go out as dask events (``Worker.log_event``: batched, no round trip, the trial never
    waits for the notebook); a STOP arrives as a flag set on the worker by ``Client.run``, so
    asking "should I stop?" after each epoch costs a set look-up. Each report names this attempt
    (a fresh id) and its worker: dask re-runs the trial, under the same key and token, when its
    worker dies, and the client counts the epochs a lost attempt trained
    (:meth:`~nasbook.executors._losses.WorkerLosses.lost_epochs`).
    """
    import uuid

    from distributed import get_worker

    if torch_threads and ("torch" in sys.modules or "nasbook.training" in task.worker_imports):
        import torch

        torch.set_num_threads(torch_threads)
    worker = get_worker()
    attempt = uuid.uuid4().hex[:8]

    def report(epoch: int, **metrics: float) -> Decision:
        worker.log_event(topic, {"number": number, "token": token, "epoch": int(epoch), "attempt": attempt,
                                 "worker": worker.address, "metrics": {k: float(v) for k, v in metrics.items()}})
        return Decision.STOP if token in _STOPPED else Decision.CONTINUE

    try:
        return evaluate_trial(task, space, arch, number, fidelity, report)
    finally:
        _STOPPED.discard(token)
