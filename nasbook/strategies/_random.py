from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from nasbook.strategies._base import BaseStrategy

if TYPE_CHECKING:
    from nasbook.space import Architecture


class RandomSearch(BaseStrategy):
    """Uniform random sampling over architectures, without repeats.

    The baseline every NAS method must beat (Li & Talwalkar, 2019).

    Parameters
    ----------
    seed : int, optional
        Overrides the search's seed.
    allow_duplicates : bool
        Sample with replacement.
    """

    tell_order_independent: ClassVar[bool] = True
    alias: ClassVar[str] = "random"

    def _ask(self) -> Architecture:
        return self._sample_new()
