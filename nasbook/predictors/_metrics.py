"""Scores of a predictor against the truth: rank correlations, top-k overlap, interval coverage.

Every function takes the true scores first, then the predictions, as 1-D arrays of one length;
"higher is better" for the true scores unless ``mode="min"``.
"""

from __future__ import annotations

import math

import numpy as np

#: two-sided normal quantiles of the central 68.27% and 95% intervals
_Z = {0.68: 1.0, 0.95: 1.959963984540054}

#: the metrics :func:`all_scores` returns, ``Predictor.score`` keeps in ``scores_`` (and takes as ``metric=``)
#: and :func:`nasbook.predictors.evaluate` records beside its timings
METRICS: tuple[str, ...] = ("kendall_tau", "spearman", "top_k_overlap", "coverage_68", "coverage_95", "nll")


def kendall_tau(y: np.ndarray, mean: np.ndarray) -> float:
    """Kendall's tau-b between true and predicted scores (NaN when either is constant).

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.

    Returns
    -------
    float
        In [-1, 1]: 1 when the predictions rank every pair as the truth does.
    """
    if np.ptp(y) == 0 or np.ptp(mean) == 0:
        return math.nan
    from scipy import stats

    return float(stats.kendalltau(y, mean).statistic)


def spearman(y: np.ndarray, mean: np.ndarray) -> float:
    """Spearman's rank correlation (NaN when either is constant).

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.

    Returns
    -------
    float
        In [-1, 1].
    """
    if np.ptp(y) == 0 or np.ptp(mean) == 0:
        return math.nan
    from scipy import stats

    return float(stats.spearmanr(y, mean).statistic)


def top_k_count(k: int | float | None, n: int, owner: str = "top_k_overlap") -> int:
    """How many architectures the top ``k`` of ``n`` is.

    Parameters
    ----------
    k : int, float or None
        A count (capped at ``n``), or a fraction of ``n``: the nearest whole count, halves rounded up
        (``floor(k * n + 0.5)``: 1% of 250 is 3, of 200 is 2, of 149 is 1). None: the default, 1% of
        ``n`` counted the same way but at least 1 (so it holds at any ``n``).
    n : int
        The architectures ranked.
    owner : str, default "top_k_overlap"
        Who asks (named in the error).

    Returns
    -------
    int
        The count, at least 1.

    Raises
    ------
    InvalidParameterError
        A fraction that rounds to no architecture (``k * n < 0.5``): the top set it asks for is smaller than
        one architecture, so no precision@k measures it (counting the top 1 instead would report another
        metric under its name).
    """
    from nasbook._errors import InvalidParameterError

    if k is None:
        return max(1, int(math.floor(0.01 * n + 0.5)))
    if not isinstance(k, float):
        return int(min(k, n))
    count = int(math.floor(k * n + 0.5))
    if count < 1:
        raise InvalidParameterError(
            f"{owner}(k={k!r}): the top {k:.4g} of {n} architectures is {k * n:.3g} of one, which rounds to none; pass "
            f"a fraction of at least {0.5 / n:.3g} (half an architecture in {n}) or an int k (a count).")
    return count


def _top_k_weights(scores: np.ndarray, kk: int) -> np.ndarray:
    """Each item's chance of being among the best ``kk`` of ``scores`` (higher is better, NaN last)
    when ties are broken uniformly at random: 1 above the ``kk``-th value, the places left shared
    equally among the items tied at it, 0 below."""
    s = np.where(np.isnan(scores), -np.inf, scores)
    kth = np.sort(s)[::-1][kk - 1]
    above, tied = s > kth, s == kth
    weights = above.astype(float)
    weights[tied] = (kk - int(above.sum())) / int(tied.sum())
    return weights


def top_k_overlap(y: np.ndarray, mean: np.ndarray, k: int | float | None = None, mode: str = "max") -> float:
    """Fraction of the truly best ``k`` architectures among the predicted best ``k`` (NASLib's precision@k).

    Ties at the ``k``-th place (in the truth or in the predictions) are counted fractionally: the
    result is the expected overlap when each ranking's ties are broken uniformly at random,
    independently. An architecture strictly above the ``k``-th value is in the top ``k``; the ``m``
    places left are shared equally among the ``t`` tied at it (each is in with chance ``m / t``); the
    overlap sums, over architectures, the product of their chances in the true and the predicted top
    ``k``. So the value does not depend on the order of the architectures, and without ties it is the
    plain share. NaN scores rank last.

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.
    k : int, float or None, default None
        How many top architectures: an int is a count (at most ``len(y)``); a float a fraction of
        ``len(y)``, counted by :func:`top_k_count` (the nearest whole count, halves up; a fraction of
        less than half an architecture is refused); None: the top 1%, at least 1.
    mode : {"max", "min"}, default "max"
        Whether higher or lower true scores are better.

    Returns
    -------
    float
        In [0, 1] (with ties at the ``k``-th place, a value between the multiples of ``1 / k``).

    Examples
    --------
    >>> import numpy as np
    >>> top_k_overlap(np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0]), k=1)  # one of two tied best
    0.5
    """
    kk = top_k_count(k, len(y))
    if kk < 1:  # k <= 0 or no architectures: there is no top set (it divided by zero)
        from nasbook._errors import InvalidParameterError

        raise InvalidParameterError(f"top_k_overlap(k={k!r}) must count at least one of the {len(y)} architectures.")
    sign = 1.0 if mode == "max" else -1.0
    y_signed = sign * np.asarray(y, dtype=float)
    mean_signed = sign * np.asarray(mean, dtype=float)
    return float(np.dot(_top_k_weights(y_signed, kk), _top_k_weights(mean_signed, kk)) / kk)


def coverage(y: np.ndarray, mean: np.ndarray, std: np.ndarray, level: float = 0.68) -> float:
    """Fraction of true scores inside the central normal interval ``mean +- z(level) * std``.

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.
    std : numpy.ndarray
        Predicted standard deviations, aligned with ``y``, in the units of ``y``.
    level : float, default 0.68
        The interval's nominal probability, in (0, 1); 0.68 uses z = 1 (one standard deviation).

    Returns
    -------
    float
        In [0, 1]; a calibrated predictor scores about ``level``.
    """
    from scipy import stats

    z = _Z.get(level) or float(stats.norm.ppf(0.5 + level / 2))
    return float(np.mean(np.abs(y - mean) <= z * std))


def nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean negative log-likelihood of the true scores under the predicted normals.

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.
    std : numpy.ndarray
        Predicted standard deviations, aligned with ``y``, in the units of ``y``.
        Floored at 1e-12.

    Returns
    -------
    float
        Lower is better; it punishes both overconfident and needlessly wide predictions.
    """
    sd = np.maximum(std, 1e-12)
    return float(np.mean(0.5 * np.log(2 * np.pi * sd**2) + 0.5 * ((y - mean) / sd) ** 2))


def all_scores(y: np.ndarray, mean: np.ndarray, std: np.ndarray, mode: str = "max") -> dict[str, float]:
    """Every metric of :data:`METRICS` at once.

    Parameters
    ----------
    y : numpy.ndarray
        True scores, 1-D.
    mean : numpy.ndarray
        Predicted scores (means), 1-D, aligned with ``y``.
    std : numpy.ndarray
        Predicted standard deviations, aligned with ``y``, in the units of ``y``.
    mode : {"max", "min"}, default "max"
        Whether higher or lower true scores are better (for ``top_k_overlap``, with ``k=0.01``).

    Returns
    -------
    dict of str to float
        ``{metric: value}`` for each name of :data:`METRICS`.
    """
    return {
        "kendall_tau": kendall_tau(y, mean),
        "spearman": spearman(y, mean),
        "top_k_overlap": top_k_overlap(y, mean, None, mode),  # the top 1%, at least 1
        "coverage_68": coverage(y, mean, std, 0.68),
        "coverage_95": coverage(y, mean, std, 0.95),
        "nll": nll(y, mean, std),
    }
