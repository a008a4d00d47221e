"""The statistics behind :func:`nasbook.viz.compare_info`: intervals over seeds, their support, the paired test.

Regret is >= 0 by construction and a best-so-far value cannot pass the task's optimum, so the mean
over seeds lies within those bounds too; a Student-t interval (symmetric, mean +- t * sd / sqrt(n))
over a handful of seeds of such a skewed quantity reaches past them whenever most seeds sit near the
bound. :func:`_support` finds the bound and :func:`_interval` cuts the interval there: a confidence
interval for a parameter known to lie in a set, intersected with that set, covers the parameter
whenever the uncut one does, so the cut changes neither the coverage nor anything inside the support.
"""

from __future__ import annotations

import math
import warnings

import numpy as np


def _support(ys: np.ndarray, yname: str, mode: str, optimum: float | None) -> tuple[float, float]:
    """(lower, upper) bound the mean of ``ys`` is known to lie within, from what ``ys`` is.

    Regret (``yname == "regret"``) is >= 0; a best-so-far value is at most the optimum when
    maximising (at least it when minimising), where the task knows its optimum. A bound applies only
    when every recorded value respects it: a multi-fidelity search's low-fidelity value can beat the
    top-fidelity optimum (a negative regret), and then no bound is known. ``(-inf, inf)`` when none.
    """
    finite = ys[np.isfinite(ys)]
    if yname == "regret":
        bound, low = 0.0, True
    elif optimum is not None:
        bound, low = float(optimum), mode == "min"
    else:
        return -math.inf, math.inf
    if low and np.all(finite >= bound):
        return bound, math.inf
    if not low and np.all(finite <= bound):
        return -math.inf, bound
    return -math.inf, math.inf


def _interval(a: np.ndarray, stat: str, interval: str, confidence: float, rng: np.random.Generator,
              support: tuple[float, float] = (-math.inf, math.inf)) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per column of ``a`` (seeds x steps), within ``support``; NaN where a seed lacks a value or n < 2.

    ``"t"``: mean +- t(n-1) * sd / sqrt(n), cut to ``support`` (which the mean lies within: the cut
    interval covers it whenever the t interval does). ``"bootstrap"``: the percentile bootstrap of
    ``stat``, whose ends are values of the statistic on resamples of the seeds, so within the
    support already (the cut is a no-op there).
    """
    n_steps = a.shape[1]
    low, high = np.full(n_steps, np.nan), np.full(n_steps, np.nan)
    ok = np.flatnonzero(np.isfinite(a).all(axis=0))
    n = a.shape[0]
    if n < 2 or not len(ok):
        return low, high
    data = a[:, ok]
    from scipy import stats

    if interval == "t":
        centre = data.mean(axis=0)
        half = stats.t.ppf((1 + confidence) / 2, n - 1) * data.std(axis=0, ddof=1) / math.sqrt(n)
        low[ok], high[ok] = centre - half, centre + half
    else:
        fn = np.mean if stat == "mean" else np.median
        with warnings.catch_warnings():  # an all-equal column is a zero-width interval, not a warning
            warnings.simplefilter("ignore", category=stats.DegenerateDataWarning)
            res = stats.bootstrap((data,), fn, axis=0, vectorized=True, confidence_level=confidence,
                                  method="percentile", rng=rng)
        low[ok], high[ok] = res.confidence_interval.low, res.confidence_interval.high
    lower, upper = support
    low[ok], high[ok] = np.clip(low[ok], lower, upper), np.clip(high[ok], lower, upper)
    return low, high


def _wilcoxon(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """(mean of a - b, two-sided Wilcoxon signed-rank p, pairs) over the pairs where both have a value."""
    from scipy import stats

    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if not len(a):
        return math.nan, math.nan, 0
    d = a - b
    p = 1.0 if np.all(d == 0) else float(stats.wilcoxon(a, b, alternative="two-sided").pvalue)
    return float(d.mean()), p, len(a)
