"""Every ``plot_*`` function checks its size options (``width``, ``height``...) when it is called.

Before, holoviews took ``width="wide"``, a float width or a negative height into the plot and failed only when it
was drawn (in the notebook's display, or in ``save``) with holoviews' own ValueError; ``width=True`` drew a plot
1 pixel wide. Now each raises nasbook's InvalidParameterError naming the function, the option, what is allowed and
what it got.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.predictors import RandomForest, evaluate
from nasbook.tasks import DigitsTable
from nasbook.viz import (
    plot_compare,
    plot_curves,
    plot_history,
    plot_op_frequency,
    plot_predictions,
    plot_predictor_scores,
    plot_tradeoff,
)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")


@pytest.fixture(scope="module")
def predictor_data():
    task = DigitsTable()
    scores = evaluate({"forest": RandomForest(n_estimators=5, calibration="none")}, task, n_train=[10, 20], seeds=2,
                      n_test=30, progress=False)
    archs, y = task.space.enumerate(), task.values()
    predictor = RandomForest(n_estimators=5, calibration="none").fit(archs[:30], y[:30])
    predictor.score(archs[30:60], y[30:60])
    return scores, predictor


@pytest.fixture
def plots(cora, cora_evo, curves, predictor_data):
    """name -> a call of that plot on data it draws, taking the options."""
    scores, predictor = predictor_data
    return {
        "plot_history": lambda **o: plot_history(cora, cora_evo, **o),
        "plot_compare": lambda **o: plot_compare(cora, cora_evo, **o),
        "plot_curves": lambda **o: plot_curves(curves, **o),
        "plot_tradeoff": lambda **o: plot_tradeoff(cora, **o),
        "plot_op_frequency": lambda **o: plot_op_frequency(cora, **o),
        "plot_predictor_scores": lambda **o: plot_predictor_scores(scores, **o),
        "plot_predictions": lambda **o: plot_predictions(predictor, **o),
    }


PLOTS = ["plot_history", "plot_compare", "plot_curves", "plot_tradeoff", "plot_op_frequency", "plot_predictor_scores",
         "plot_predictions"]


def test_every_public_plot_is_covered():
    import nasbook.viz

    assert sorted(n for n in nasbook.viz.__all__ if n.startswith("plot_")) == sorted(PLOTS)


@pytest.mark.parametrize("name", PLOTS)
@pytest.mark.parametrize("option, value, got", [
    ("width", "wide", "'wide' of type str"),
    ("height", -5, "-5"),
    ("width", 700.5, "700.5 of type float"),
    ("width", True, "True of type bool"),
    ("height", 0, "0"),
    ("frame_width", "x", "'x' of type str"),
    ("max_height", [300], r"\[300\] of type list"),
])
def test_a_nonsense_size_is_refused_when_the_plot_is_called(plots, name, option, value, got):
    with pytest.raises(InvalidParameterError, match=rf"^{name}\({option}=\.\.\.\) must be an int >= 1 or None; got {got}"):
        plots[name](**{option: value})


@pytest.mark.parametrize("name", PLOTS)
def test_a_size_in_pixels_is_taken_numpy_ints_too(plots, name):
    import holoviews as hv

    plot = plots[name](width=np.int64(500), height=320, title="t")
    size = hv.Store.lookup_options("bokeh", plot, "plot").kwargs
    assert (size["width"], size["height"]) == (500, 320) and type(size["width"]) is int
