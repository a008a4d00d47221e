"""Architectures and trial rows shared by the ``kb.similar`` suites (imported as a plain module: pytest
puts this folder on ``sys.path`` for its test files)."""

import numpy as np

from nasbook.space import GraphSpace

SPACE = GraphSpace()


def archs(n, seed):
    """The distinct architectures among ``n`` samples of ``SPACE`` under ``seed``."""
    rng = np.random.default_rng(seed)
    return list({a.id: a for a in (SPACE.sample(rng) for _ in range(n))}.values())


def rows(archs, rng, n, **extra):
    """``n`` trials drawn from ``archs`` with 2-decimal values (ties), each with ``extra`` columns."""
    picks = rng.integers(0, len(archs), n)
    return [{"arch": archs[i], "value": float(v), **extra} for i, v in zip(picks, np.round(rng.random(n), 2))]
