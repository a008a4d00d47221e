"""The garbage collector paused over a block, then left as it was found."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection inside the block; the collector is left as it was found.

    Two uses in nasbook:

    * making a ``distributed.Client`` (or a ``LocalCluster``): ``Client.__del__`` closes a client's event
      loop under ``LoopRunner``'s lock, which every client shares and which is not re-entrant; a client's
      start holds it. A collection inside that start that finalises an earlier, half-built client (a
      connection that failed) waits on the lock forever: the process hangs (seen in CI, where pytest's
      timeout could not end it, its exception swallowed by ``__del__``);
    * reads that build millions of new objects and no garbage (``kb.trials``, ``kb.similar``'s read of a
      space): collections found nothing to free and took up to half the time (docs/benchmarks.md 11t, 11s-kb3).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
