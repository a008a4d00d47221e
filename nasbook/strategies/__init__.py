"""Search strategies: the :class:`BaseStrategy` plug-in point and built-in strategies.

Names resolve as strings too: ``"random"``, ``"evolution"``, ``"local"``.
"""

from nasbook.strategies._base import BaseStrategy, Proposal
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.strategies._local import LocalSearch
from nasbook.strategies._random import RandomSearch
from nasbook.strategies._registry import ENTRY_POINT_GROUP, available_strategies, get_strategy, strategy_class

__all__ = [
    "ENTRY_POINT_GROUP", "BaseStrategy", "Proposal", "LocalSearch", "RandomSearch", "RegularizedEvolution",
    "available_strategies", "get_strategy", "strategy_class",
]
