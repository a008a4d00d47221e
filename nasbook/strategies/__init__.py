"""Search strategies: the :class:`BaseStrategy` plug-in point and built-in strategies.

Names resolve as strings too: ``"random"``, ``"evolution"``, ``"local"``; the multi-fidelity
schedulers ``"asha"``, ``"sh"``, ``"hyperband"``; the stopping rules ``"median-stopping"``,
``"curve-stopping"`` (learning-curve predictions, :class:`CurveStopping`) and
``"fingerprint-stopping"`` (early run fingerprints that resemble past diverged runs,
:class:`FingerprintStopping`), which wrap a proposing strategy; ``"optuna"``: any Optuna sampler
(:class:`OptunaSampler`, needs the optional ``optuna`` extra); ``"bo"``: predictor-guided search
(:class:`BO`); ``"portfolio"``: a bandit over strategies (:class:`Portfolio`); ``"growth"``: evolution that grows
trained parents (:class:`Growth`). A strategy of your own is named by :func:`register` (in this process: a
notebook cell's class) or by an installed package's entry point (group ``nasbook.strategies``).
"""

from nasbook.strategies._base import WAIT, BaseStrategy, Proposal, clone
from nasbook.strategies._bo import BO
from nasbook.strategies._curve_stopping import CurveStopping
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.strategies._fingerprint import FingerprintStopping, divergence_risk, fingerprint_frame, flag_divergence
from nasbook.strategies._growth import Growth
from nasbook.strategies._local import LocalSearch
from nasbook.strategies._multifidelity import ASHA, Hyperband, SuccessiveHalving, rung_epochs
from nasbook.strategies._optuna import OptunaSampler
from nasbook.strategies._portfolio import Portfolio, portfolio_prior
from nasbook.strategies._pruning import MedianStopping
from nasbook.strategies._random import RandomSearch
from nasbook.strategies._registry import (
    ENTRY_POINT_GROUP,
    available_strategies,
    get_strategy,
    register,
    strategy_class,
    unregister,
)

__all__ = [
    "ASHA", "BO", "BaseStrategy", "CurveStopping", "ENTRY_POINT_GROUP", "FingerprintStopping", "Growth", "Hyperband",
    "LocalSearch", "MedianStopping", "OptunaSampler", "Portfolio", "Proposal", "RandomSearch", "RegularizedEvolution",
    "SuccessiveHalving", "WAIT", "available_strategies", "clone", "divergence_risk", "fingerprint_frame",
    "flag_divergence", "get_strategy", "portfolio_prior", "register", "rung_epochs", "strategy_class", "unregister",
]
