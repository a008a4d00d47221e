"""A dask worker preload for the worker processes nasbook starts itself: they ignore SIGINT.

Ctrl-C in a terminal reaches the whole foreground process group, so every worker of a
``LocalCluster`` used to die at once, each printing its own ``KeyboardInterrupt`` and
``CancelledError`` tracebacks (about 90 lines for two workers) over the search's short message.
The search (the parent process) handles Ctrl-C: it stores the trials in flight as QUEUED and
closes the cluster, which ends the workers. Clusters you start yourself are left as they are.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    """Called by dask in each worker process as it starts (and again when a worker restarts)."""
    if threading.current_thread() is threading.main_thread():  # signal handlers live there only
        signal.signal(signal.SIGINT, signal.SIG_IGN)
