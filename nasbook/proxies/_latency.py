"""``latency``: how long one forward pass of a network takes, with warm-up and repeated timing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int


@dataclass(frozen=True)
class Latency:
    """Forward-pass wall time of one batch: ``median_ms``, ``p95_ms``, ``mean_ms`` and every timed repeat.

    ``float(latency)`` is ``median_ms``.

    Attributes
    ----------
    median_ms : float
        Median of the timed passes, in milliseconds.
    p95_ms : float
        95th percentile of the timed passes, in milliseconds (the slow passes).
    mean_ms : float
        Mean of the timed passes, in milliseconds.
    times_ms : tuple of float
        Every timed pass, in milliseconds, in the order they ran.
    batch_size : int
        Samples in the timed batch.
    num_threads : int
        Torch threads the passes ran with.
    """

    median_ms: float
    p95_ms: float
    mean_ms: float
    times_ms: tuple[float, ...]
    batch_size: int
    num_threads: int

    def __float__(self) -> float:
        return self.median_ms


def latency(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    warmup: int = 5,
    repeats: int = 30,
    num_threads: int | None = 1,
) -> Latency:
    """Time ``model`` on a zero batch of ``(batch_size, *input_shape)`` with ``torch.utils.benchmark``.

    The model runs in eval mode under ``torch.no_grad()`` (its own mode is restored); ``warmup``
    untimed passes come first (allocator, lazy initialisation), then ``repeats`` timed passes,
    one at a time, so that ``p95_ms`` sees the slow ones.

    Parameters
    ----------
    model : torch.nn.Module
        The network; the batch is made on its parameters' device and dtype.
    input_shape : sequence of int
        Shape of one sample, positive ints such as ``(1, 8, 8)``.
    batch_size : int, default 1
        Samples per timed pass.
    warmup : int, default 5
        Untimed passes before timing (>= 0).
    repeats : int, default 30
        Timed passes (>= 1).
    num_threads : int or None, default 1
        Torch threads during timing: on CPU, 1 gives a per-core figure; None keeps torch's current
        setting (restored afterwards either way).

    Returns
    -------
    Latency
        The timings, in milliseconds.
    """
    from torch.utils import benchmark

    owner = "proxies.latency"
    if not isinstance(model, nn.Module):
        raise InvalidParameterTypeError(f"{owner}(model=...) must be a torch.nn.Module; got {model!r:.60} of type {type(model).__name__}.")
    if (
        isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or not input_shape
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in input_shape)
    ):
        raise InvalidParameterError(f"{owner}(input_shape=...) must be the shape of one sample, positive ints such as (1, 8, 8); got {input_shape!r}.")
    batch_size = check_int(owner, "batch_size", batch_size, minimum=1)
    warmup = check_int(owner, "warmup", warmup, minimum=0)
    repeats = check_int(owner, "repeats", repeats, minimum=1)
    num_threads = check_int(owner, "num_threads", num_threads, minimum=1, allow_none=True)
    param = next(model.parameters(), None)
    x = torch.zeros((batch_size, *(int(s) for s in input_shape)),
                    dtype=param.dtype if param is not None else torch.float32,
                    device=param.device if param is not None else "cpu")
    threads = int(num_threads) if num_threads is not None else torch.get_num_threads()
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            try:
                for _ in range(warmup):
                    model(x)
                timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=threads)
                times = [timer.timeit(1).median * 1e3 for _ in range(repeats)]
            except (RuntimeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"{owner}: the model does not take input_shape={tuple(input_shape)} (batch {tuple(x.shape)}): "
                    f"{str(exc).splitlines()[0]}"
                ) from exc
    finally:
        model.train(was)
    arr = np.asarray(times)
    return Latency(median_ms=float(np.median(arr)), p95_ms=float(np.percentile(arr, 95)), mean_ms=float(arr.mean()),
                   times_ms=tuple(float(t) for t in arr), batch_size=batch_size, num_threads=threads)
