"""A dask trial stopped by ``trial_timeout_s`` that never reports keeps its worker's thread: dask cannot stop a
thread, so cancelling its future only makes the scheduler forget it. The scheduler then counts the thread free
and hands it the next trial, which waits on the worker behind the hung function, and times out there too: with
one 1-thread worker, every trial after a hung one FAILED "timed out" until the function returned
(``docs/benchmarks.md``, "Executor and durability leftovers (h-execdur)").

:class:`HungTrials` keeps the keys the executor cancelled. Before the next submit it asks the workers (on their
event loop, which answers while their threads are busy) whether a cancelled trial still runs there, giving it
:data:`GRACE_S` to stop at a report first; a worker where it does, that runs and holds nothing else (no other
task of any client, no data) and has a nanny is restarted through dask's own ``Client.restart_workers``: its
process (with the hung function) is replaced, and the next trial gets the fresh thread. A worker that runs
something else, or has no nanny (``processes=False``), is left alone, with one warning naming the trial and the
worker: its thread stays taken until the function returns.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from nasbook._errors import NasbookWarning, stacklevel_outside_nasbook

#: seconds a cancelled trial has to stop at its next report before its worker counts as hung
GRACE_S = 1.0
#: the most seconds a worker's restart is waited for
RESTART_TIMEOUT_S = 60.0


def hung_state(key: str, dask_worker: Any = None) -> str:
    """On a worker (``client.run``): ``"gone"`` if the trial ``key`` holds none of its threads, ``"alone"`` if it
    does and the worker holds no other task (running, waiting or in memory), ``"busy"`` if it holds others."""
    try:
        tasks = dask_worker.state.tasks
        ts = tasks.get(key)
        if ts is None or ts.state not in ("cancelled", "executing", "long-running", "resumed"):
            return "gone"
        others = [k for k, t in tasks.items() if k != key and t.state not in ("released", "forgotten")]
        return "busy" if others else "alone"
    except Exception:  # noqa: BLE001 - a worker whose state cannot be read: left alone
        return "busy"


class HungTrials:
    """The trials an executor cancelled that may still hold a worker's thread (see the module docstring)."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[int, float]] = {}  # key -> (trial number, monotonic time it was cancelled)
        self.restarted: list[str] = []  # the workers restarted, for tests and figures

    def add(self, key: str, number: int) -> None:
        self.keys[key] = (number, time.monotonic())

    def clear(self) -> None:
        self.keys.clear()

    def free(self, client: Any) -> None:
        """Before a submit: restart the workers only a hung cancelled trial holds; forget the keys found gone."""
        for key, (number, at) in list(self.keys.items()):
            where = _where(client, key)
            if where and (left := GRACE_S - (time.monotonic() - at)) > 0:
                time.sleep(left)  # a trial that reports stops at its next report: no restart for it
                where = _where(client, key)
            del self.keys[key]
            for addr, state in where.items():
                self._free(client, addr, state, number)

    def _free(self, client: Any, addr: str, state: str, number: int) -> None:
        why = "it runs other tasks too"
        if state == "alone":
            try:
                nanny = client.scheduler_info(n_workers=-1)["workers"].get(addr, {}).get("nanny")
            except Exception:  # noqa: BLE001 - the scheduler's answer is what failed: not restarted
                nanny = None
            why = "it has no nanny (processes=False) to restart it"
            if nanny:
                try:
                    done = client.restart_workers([addr], timeout=RESTART_TIMEOUT_S, raise_for_error=False)
                except Exception as exc:  # noqa: BLE001 - refused (e.g. an older distributed): left as it is
                    done = {addr: f"{type(exc).__name__}: {exc}"}
                if done.get(addr) == "OK":
                    self.restarted.append(addr)
                    return
                why = f"restarting it failed ({done.get(addr)})"
        warnings.warn(f"trial {number} timed out (trial_timeout_s) but still runs on dask worker {addr}, which was not "
                      f"restarted ({why}): dask cannot stop a thread, so that thread takes no other trial until the "
                      "function returns. A task that reports its epochs is stopped at its next report.",
                      NasbookWarning, stacklevel=stacklevel_outside_nasbook())


def _where(client: Any, key: str) -> dict[str, str]:
    """``{worker: "alone" | "busy"}`` for the workers where the cancelled trial ``key`` still holds a thread."""
    try:
        states = client.run(hung_state, key, on_error="return")
    except Exception:  # noqa: BLE001 - the scheduler is gone: the loop finds out at its next poll
        return {}
    return {addr: s for addr, s in states.items() if s in ("alone", "busy")}
