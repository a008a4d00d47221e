"""Plots of searches: pure ``_*_info()`` data builders and thin hvplot renderers.

Each plot is a pair: ``_history_info(...)`` returns an ``xarray.Dataset`` (what the tests
check, and what to use for a plot of your own) and ``plot_history(...)`` draws it with a few
lines of hvplot. ``_compare_info(...)`` and ``plot_compare(...)`` compare strategies over
seeds: best so far (or regret) aggregated per group with an interval, and a paired Wilcoxon test
by seed. Importing this module is light: hvplot, holoviews, bokeh and matplotlib are imported
only when a ``plot_*`` function or :func:`save` is called.

Examples
--------
>>> import nasbook, nasbook.viz
>>> from nasbook.tasks import NasBenchGraph
>>> s = nasbook.Search(NasBenchGraph("cora"), budget=20, seed=0, storage=":memory:").run()
>>> nasbook.viz._history_info(s)["best_so_far"].dims
('search', 'step')
>>> nasbook.viz.save(nasbook.viz.plot_history(s), "history.html")  # doctest: +SKIP
"""

from nasbook.viz._compare import _compare_info, plot_compare
from nasbook.viz._info import (
    HISTORY_X,
    _curves_info,
    _history_info,
    _op_frequency_info,
    _tradeoff_info,
)
from nasbook.viz._plots import plot_curves, plot_history, plot_op_frequency, plot_tradeoff, save
from nasbook.viz._predictors import _predictions_info, _predictor_scores_info, plot_predictions, plot_predictor_scores

__all__ = [
    "HISTORY_X",
    "_compare_info",
    "_curves_info",
    "_history_info",
    "_op_frequency_info",
    "_predictions_info",
    "_predictor_scores_info",
    "_tradeoff_info",
    "plot_compare",
    "plot_curves",
    "plot_history",
    "plot_op_frequency",
    "plot_predictions",
    "plot_predictor_scores",
    "plot_tradeoff",
    "save",
]
