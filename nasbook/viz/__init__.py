"""Plots of searches: ``*_info()`` data builders and thin hvplot renderers.

Each plot is a pair: a builder returns an ``xarray.Dataset`` (what the tests check, and what to
use for a table or a plot of your own) and ``plot_*`` draws it with a few lines of hvplot or
holoviews. :func:`compare_info` and :func:`plot_compare` compare strategies over seeds: best so far
(or regret) aggregated per group with an interval, and a paired Wilcoxon test by seed;
:func:`curves_info` and :func:`plot_curves` show learning curves. Those two builders are public
(the tutorials read their numbers); the builders of the other plots (``_history_info``,
``_tradeoff_info``, ``_op_frequency_info``, ``_predictions_info``, ``_predictor_scores_info``) are
private by name for now. Importing this module is light: hvplot, holoviews, bokeh and matplotlib
are imported only when a ``plot_*`` function or :func:`save` is called.

Examples
--------
>>> import nasbook, nasbook.viz
>>> from nasbook.tasks import NasBenchGraph
>>> s = nasbook.Search(NasBenchGraph("cora"), budget=20, seed=0, storage=":memory:").run()
>>> nasbook.viz.compare_info(s)["best_so_far"].dims
('group', 'seed', 'step')
>>> nasbook.viz.save(nasbook.viz.plot_history(s), "history.html")  # doctest: +SKIP
"""

from nasbook.viz._compare import compare_info, plot_compare
from nasbook.viz._info import (
    HISTORY_X,
    _history_info,
    _op_frequency_info,
    _tradeoff_info,
    curves_info,
)
from nasbook.viz._plots import plot_curves, plot_history, plot_op_frequency, plot_tradeoff, save
from nasbook.viz._predictors import _predictions_info, _predictor_scores_info, plot_predictions, plot_predictor_scores

# the names these two had before they were public, for code written against them
_compare_info = compare_info
_curves_info = curves_info

__all__ = [
    "HISTORY_X",
    "_history_info",
    "_op_frequency_info",
    "_predictions_info",
    "_predictor_scores_info",
    "_tradeoff_info",
    "compare_info",
    "curves_info",
    "plot_compare",
    "plot_curves",
    "plot_history",
    "plot_op_frequency",
    "plot_predictions",
    "plot_predictor_scores",
    "plot_tradeoff",
    "save",
]
