"""``seeded``: run a block with torch's CPU generator seeded and a thread count, both restored.

Torch only, no Lightning: training (``nasbook.training``) and the zero-cost proxies
(``nasbook.proxies``, which must not pay Lightning's import) share it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int | None, num_threads: int | None = None) -> Iterator[None]:
    """Run a block with torch's CPU generator seeded, and ``num_threads`` intra-op threads.

    The generator state and the thread count are restored on exit, so training in the notebook
    process leaves the user's own random streams alone. (CUDA generators are seeded, not restored.)

    Parameters
    ----------
    seed : int or None
        Seed for ``torch.manual_seed``; None leaves the generator's state as it is (still restored
        on exit).
    num_threads : int, optional
        ``torch.set_num_threads`` inside the block; None keeps the current count.

    Yields
    ------
    None
        Control to the block.
    """
    previous_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            if num_threads is not None:
                torch.set_num_threads(previous_threads)
