"""Search strategies: the :class:`BaseStrategy` plug-in point and built-in strategies.

Names resolve as strings too: ``"random"``, ``"evolution"``, ``"local"``, and the
multi-fidelity schedulers ``"asha"``, ``"sh"``, ``"hyperband"`` and the early-stopping rule
``"median-stopping"`` (which wrap a proposing strategy), and ``"optuna"``: any Optuna sampler
(:class:`OptunaSampler`, needs the optional ``optuna`` extra), ``"bo"``: predictor-guided
search (:class:`BO`), and ``"growth"``: evolution that grows trained parents (:class:`Growth`).
"""

from nasbook.strategies._base import WAIT, BaseStrategy, Proposal, clone
from nasbook.strategies._bo import BO
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.strategies._growth import Growth
from nasbook.strategies._local import LocalSearch
from nasbook.strategies._multifidelity import ASHA, Hyperband, SuccessiveHalving, rung_epochs
from nasbook.strategies._optuna import OptunaSampler
from nasbook.strategies._pruning import MedianStopping
from nasbook.strategies._random import RandomSearch
from nasbook.strategies._registry import ENTRY_POINT_GROUP, available_strategies, get_strategy, strategy_class

__all__ = [
    "WAIT", "ASHA", "BO", "ENTRY_POINT_GROUP", "Growth", "Hyperband", "MedianStopping", "OptunaSampler", "SuccessiveHalving", "rung_epochs", "BaseStrategy", "Proposal", "LocalSearch", "RandomSearch", "RegularizedEvolution",
    "available_strategies", "clone", "get_strategy", "strategy_class",
]
