"""Predictors: an architecture's quality, with an uncertainty, before it is trained.

- :class:`Predictor` (also ``nasbook.Predictor``): the best default for the space at hand, or
  any model by name (``Predictor(model="gp")``).
- Models: :class:`GaussianProcess`, :class:`RandomForest`, :class:`ExtraTrees`,
  :class:`GradientBoosting` (quantile heads), :class:`MLPEnsemble` (torch), :class:`Ensemble`,
  :class:`PriorPredictor` (a surrogate corrected from a prior, e.g. past tasks').
- :class:`OmniPredictor`: the encoding plus extra per-architecture columns (zero-cost proxies,
  early-curve values) in one model.
- :class:`BasePredictor`: the plug-in point (``_fit`` / ``_predict`` on feature matrices); :func:`register`
  names a model in this process (a notebook cell's class), a package under the entry-point group ``nasbook.predictors``.
- Metrics: :func:`kendall_tau`, :func:`spearman`, :func:`top_k_overlap` (its count: :func:`top_k_count`), :func:`coverage`.
- Learning curves: :class:`LastValue`, :class:`ParametricCurves`, :class:`LearnedCurves` (plug-in
  point :class:`BaseCurvePredictor`): a running trial's final value from its first epochs.
- :func:`evaluate`: those metrics against training-set size on a tabular task, with baselines.
"""

from nasbook.predictors._base import BasePredictor
from nasbook.predictors._curves import FAMILIES, BaseCurvePredictor, LastValue, ParametricCurves, get_curve_predictor
from nasbook.predictors._curves_learned import LearnedCurves
from nasbook.predictors._ensemble import Ensemble, Predictor
from nasbook.predictors._evaluate import evaluate
from nasbook.predictors._metrics import (
    METRICS,
    all_scores,
    coverage,
    kendall_tau,
    nll,
    spearman,
    top_k_count,
    top_k_overlap,
)
from nasbook.predictors._mlp import MLPEnsemble
from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting, RandomForest
from nasbook.predictors._omni import OmniPredictor
from nasbook.predictors._prior import PriorPredictor
from nasbook.predictors._registry import (
    ENTRY_POINT_GROUP,
    available_predictors,
    get_predictor,
    predictor_class,
    register,
    unregister,
)

__all__ = [
    "ENTRY_POINT_GROUP", "METRICS", "BasePredictor", "Ensemble", "ExtraTrees", "GaussianProcess", "GradientBoosting",
    "MLPEnsemble", "Predictor", "PriorPredictor", "RandomForest", "all_scores", "available_predictors", "coverage",
    "get_predictor", "kendall_tau", "nll", "OmniPredictor", "predictor_class", "spearman", "top_k_count", "top_k_overlap",
    "evaluate", "register", "unregister", "FAMILIES", "BaseCurvePredictor", "LastValue", "LearnedCurves", "ParametricCurves", "get_curve_predictor",
]
