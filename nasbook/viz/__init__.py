"""Plots of searches: ``*_info()`` data builders and thin hvplot renderers.

Each plot is a pair: a builder returns an ``xarray.Dataset`` (what the tests check, and what to
use for a table or a plot of your own) and ``plot_*`` draws it with a few lines of hvplot or
holoviews: :func:`history_info` / :func:`plot_history` (best so far against trials, epochs or
seconds), :func:`compare_info` / :func:`plot_compare` (strategies over seeds: best so far or regret
per group with an interval, and a paired Wilcoxon test by seed), :func:`curves_info` /
:func:`plot_curves` (learning curves), :func:`tradeoff_info` / :func:`plot_tradeoff` (value against
size or latency, with the Pareto front), :func:`op_frequency_info` / :func:`plot_op_frequency` (ops
of the best architectures), :func:`predictor_scores_info` / :func:`plot_predictor_scores` and
:func:`predictions_info` / :func:`plot_predictions` (predictors). Importing this module is light:
hvplot, holoviews, bokeh and matplotlib are imported only when a ``plot_*`` function or
:func:`save` is called. The holoviews options every ``plot_*`` function takes in ``**opts`` are checked
when it is called, not when the plot is drawn: the sizes (``width``, ``height``, and their ``frame_``,
``min_`` and ``max_`` forms) are whole numbers of pixels >= 1; every other option the plot's bokeh renderer
declares (``title`` a str, ``logy`` True or False, ``legend_position`` one of its places, ``xrotation`` from
0 to 360...) is checked against that declaration, ``aspect`` is a number > 0, ``'square'`` or ``'equal'``,
``fontsize`` a font size or a dict of them, ``xlim``/``ylim`` two numbers (or None), and ``alpha``-like
style options are from 0 to 1. A wrong one raises an error naming the function, the option, what it takes
and what it got; an option holoviews does not know is refused by holoviews, naming similar ones.

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
from nasbook.viz._info import HISTORY_X, curves_info, history_info, op_frequency_info, tradeoff_info
from nasbook.viz._plots import plot_curves, plot_history, plot_op_frequency, plot_tradeoff, save
from nasbook.viz._predictors import plot_predictions, plot_predictor_scores, predictions_info, predictor_scores_info

# the names the builders had before they were public, for code written against them
_compare_info = compare_info
_curves_info = curves_info
_history_info = history_info
_op_frequency_info = op_frequency_info
_tradeoff_info = tradeoff_info
_predictions_info = predictions_info
_predictor_scores_info = predictor_scores_info

__all__ = [
    "HISTORY_X",
    "compare_info",
    "curves_info",
    "history_info",
    "op_frequency_info",
    "plot_compare",
    "plot_curves",
    "plot_history",
    "plot_op_frequency",
    "plot_predictions",
    "plot_predictor_scores",
    "plot_tradeoff",
    "predictions_info",
    "predictor_scores_info",
    "save",
    "tradeoff_info",
]
