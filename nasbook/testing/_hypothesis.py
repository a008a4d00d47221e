"""Hypothesis strategies for architectures of any space."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from nasbook._errors import check_type
from nasbook.space import SearchSpace


def architectures(space: SearchSpace) -> Any:
    """Architectures of ``space``: sampled, then walked a few random mutations away.

    Parameters
    ----------
    space : SearchSpace
        The space to draw from.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Draws a seed and 0-5 mutation steps, so hypothesis can shrink towards plain samples.
    """
    check_type("architectures", "space", space, SearchSpace, "a SearchSpace")

    @st.composite
    def _draw(draw: Any) -> Any:
        seed = draw(st.integers(0, 2**32 - 1))
        steps = draw(st.integers(0, 5))
        rng = np.random.default_rng(seed)
        arch = space.sample(rng)
        for _ in range(steps):
            arch = space.mutate(arch, rng)
        return arch

    return _draw()
