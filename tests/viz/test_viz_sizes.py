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

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")


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
