"""Zero-cost proxies: score an untrained network from one minibatch, and time its forward pass.

- :func:`compute`: proxies of many architectures of a buildable space (``CellSpace``,
  ``ChainSpace``) as an xarray Dataset over ``arch``, one variable per proxy; the batch comes
  from a ``TrainingTask`` (``task.sample_batch``), a curve table (``table.training_task()``) or
  is given as ``(x, y)``.
- :func:`score` and one function per proxy (:func:`synflow`, :func:`snip`, :func:`grad_norm`,
  :func:`fisher`, :func:`jacov`, :func:`naswot`, :func:`zico`, :func:`meco`) on one network.
- :func:`latency`: median and p95 milliseconds of a forward pass (``torch.utils.benchmark``).

**Sign convention.** Every value is oriented so that **higher = predicted better**. Each
published proxy is already so oriented in its paper (synflow, snip, grad_norm, fisher, NASWOT,
ZiCo, MeCo: larger is better; jacov is published as ``-sum(log(v + k) + 1/(v + k))`` and kept
negated, larger is better); ``params`` and ``flops`` are taken as "bigger is better", the usual
baseline. :data:`DESCRIPTIONS` says what each computes and its source.

**Passes and modes.** Gradient proxies run in train mode (BatchNorm on batch statistics,
dropout drawn from torch's generator, seeded by ``seed``), as their papers do; all but synflow,
params and flops come from two half-batch forward/backward passes (``jacobian_batch="halves"``,
the default; ``"full"`` adds a full-batch pass for jacov, naswot and meco, as before round 3); synflow runs the
network (not a copy) on float64 |weights| with BatchNorm as the identity on an all-ones input. The network is
left as it was: weights, BatchNorm statistics, flags and gradients are restored.

Importing this package imports torch. No custom autograd function is defined here (every
gradient comes from torch's own), so there is nothing for ``torch.autograd.gradcheck`` to check.
"""

from nasbook.proxies._compute import (
    check_batch,
    compute,
    fisher,
    grad_norm,
    jacov,
    meco,
    naswot,
    score,
    snip,
    synflow,
    zico,
)
from nasbook.proxies._flops import count_flops
from nasbook.proxies._latency import Latency, latency
from nasbook.proxies._zc import DESCRIPTIONS, PROXIES, preserved

__all__ = [
    "DESCRIPTIONS", "PROXIES", "Latency", "check_batch", "compute", "count_flops", "fisher", "grad_norm", "jacov",
    "latency", "meco", "naswot", "preserved", "score", "snip", "synflow", "zico",
]
