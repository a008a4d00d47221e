"""Output warping of :class:`~nasbook.strategies.BO`'s surrogate target (``BO(warp=...)``).

The default surrogate learns the normal scores of the told scores' ranks (a Gaussian copula, the
predictors' ``target="rank"``), which is symmetric: a squared-error forest spends as many splits
separating the worst architectures from mediocre ones as resolving the best. A warp stretches the
top instead, before the surrogate sees the scores (its ``target`` is then ``"standard"``, since a
rank target would undo any monotone warp):

* ``"log"``: ``-log(max - y + delta)``, a log-regret: differences near the best told score weigh
  more than equal differences far below it;
* ``"boxcox"``: ``-BoxCox(max - y + delta; lambda)`` with ``lambda`` the maximum-likelihood
  estimate on the told regrets (clipped to [-2, 2]): the shape is fitted at each ask, between
  linear (``lambda = 1``) and the log (``lambda = 0``) or beyond.

``delta`` is the 10% quantile of the positive regrets ``max - y`` told (the gap to the best
that the best tenth of the rest have), so the warp has no per-problem constant and is invariant
to the scores' units and offset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

WARPS: tuple[str, ...] = ("none", "log", "boxcox")
#: the offset ``delta`` is this quantile of the positive regrets told
DELTA_QUANTILE = 0.1
#: the Box-Cox exponent is clipped to [-LAMBDA_MAX, LAMBDA_MAX]
LAMBDA_MAX = 2.0


def warp_scores(scores: Sequence[float], kind: str) -> np.ndarray:
    """The told ``scores`` (higher is better, at least two distinct) warped by ``kind`` (see the
    module); increasing in the score; ``"none"`` returns them unchanged."""
    y = np.asarray(scores, dtype=np.float64)
    if kind == "none":
        return y
    s = float(np.max(np.abs(y)))
    y = y / s if math.isfinite(s) and s > 0 else y  # regrets in [0, 2]: no overflow for extreme scores
    u = float(np.max(y)) - y
    pos = u[u > 0]
    delta = float(np.quantile(pos, DELTA_QUANTILE)) if pos.size else 1.0
    x = u + delta
    if kind == "log":
        return -np.log(x)  # type: ignore[no-any-return]
    from scipy import stats

    if pos.size < 2:  # one distinct regret: no shape to fit
        return -np.log(x)  # type: ignore[no-any-return]
    with np.errstate(all="ignore"):
        lam = float(stats.boxcox_normmax(x, method="mle"))
    lam = float(np.clip(lam, -LAMBDA_MAX, LAMBDA_MAX)) if math.isfinite(lam) else 0.0
    return -np.asarray(stats.boxcox(x, lmbda=lam), dtype=np.float64)
