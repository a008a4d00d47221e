"""Every ``plot_*`` function checks the holoviews options in its ``**opts`` when it is called, not only the sizes.

Before, ``title=3``, ``aspect="wide"``, ``logy="yes"``, ``xlim="auto"``, ``legend_position="middle"``,
``fontsize="big"`` or ``tools="hover"`` were taken into the plot and failed only when it was drawn (the notebook's
display, or ``save``), with holoviews' or bokeh's own error (``String parameter 'BokehPlot.title' only takes a string
value``); ``aspect=-1`` was dropped without a word. Now each raises nasbook's error naming the function, the option,
what it takes and what it got, and valid holoviews options still reach the plot.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")

PLOTS = ["plot_history", "plot_compare", "plot_curves", "plot_tradeoff", "plot_op_frequency", "plot_predictor_scores",
         "plot_predictions"]

BAD = [
    ("title", 3, InvalidParameterTypeError, "a str"),
    ("title", None, InvalidParameterTypeError, "a str"),
    ("aspect", "wide", InvalidParameterTypeError, "a number > 0 (width / height), 'square' or 'equal' or None"),
    ("aspect", -1.5, InvalidParameterError, "a number > 0 (width / height)"),
    ("logy", "yes", InvalidParameterTypeError, "True or False"),
    ("xlim", "auto", InvalidParameterTypeError, "a tuple of two ends, each a number, a date or None (no limit there), e.g. (0, 1)"),
    ("xlim", ("a", "b"), InvalidParameterTypeError, "a tuple of two ends, each a number, a date or None (no limit there), e.g. (0, 1)"),
    ("legend_position", "middle", InvalidParameterError,
     "one of ['top_right', 'top_left', 'bottom_left', 'bottom_right', 'right', 'left', 'top', 'bottom', 'center']"),
    ("fontsize", "big", InvalidParameterError, "a font size (a number of points, or a CSS size such as '12pt', '1.2em'), "
     "a dict of them by 'title', 'labels', 'xlabel', 'ylabel'... or None"),
    ("tools", "hover", InvalidParameterTypeError, "a list"),
    ("xlabel", 5, InvalidParameterTypeError, "a str or None"),
    ("xrotation", 400, InvalidParameterError, "an int from 0 to 360 or None"),
]


@pytest.mark.parametrize("name", PLOTS)
@pytest.mark.parametrize("option, value, error, allowed", BAD, ids=[f"{o}={v!r}" for o, v, *_ in BAD])
def test_a_wrong_option_is_refused_when_the_plot_is_called(plots, name, option, value, error, allowed):
    got = f"{value!r} of type {type(value).__name__}"
    with pytest.raises(error, match=rf"^{name}\({option}=\.\.\.\) must be {re.escape(allowed)}; got {re.escape(got)}\.$"):
        plots[name](**{option: value})


@pytest.mark.parametrize("name", PLOTS)
def test_a_fontsize_dict_is_checked_key_by_key(plots, name):
    with pytest.raises(InvalidParameterError, match=rf"^{name}\(fontsize=\.\.\.\) takes keys \['title', .*\]; got 'titel'\."):
        plots[name](fontsize={"titel": "12pt"})
    with pytest.raises(InvalidParameterTypeError, match=rf"^{name}\(fontsize\['title'\]=\.\.\.\) must be a font size"):
        plots[name](fontsize={"title": [12]})


def test_a_style_option_out_of_range_is_refused(plots):
    with pytest.raises(InvalidParameterError, match=r"^plot_op_frequency\(alpha=\.\.\.\) must be a number from 0 to 1; got 3 "):
        plots["plot_op_frequency"](alpha=3)
    with pytest.raises(InvalidParameterError, match=r"^plot_history\(background_fill_alpha=\.\.\.\) must be a number from 0 to 1"):
        plots["plot_history"](background_fill_alpha=-0.5)


@pytest.mark.parametrize("name", PLOTS)
def test_valid_holoviews_options_reach_the_plot_and_it_draws(plots, name, tmp_path):
    import holoviews as hv
    import numpy as np

    from nasbook.viz import save

    given = {"title": "mine", "aspect": 1.5, "logy": np.bool_(False), "xlim": (None, np.float64(30.0)),
             "legend_position": "top_left", "fontsize": {"title": "14pt", "ticks": 9}, "tools": ["hover"],
             "show_grid": True, "xrotation": 30}
    plot = plots[name](**given)
    held = hv.Store.lookup_options("bokeh", plot, "plot").kwargs
    assert {k: held[k] for k in given} == {**given, "logy": False, "xlim": (None, 30.0)}
    assert type(held["logy"]) is bool
    assert save(plot, tmp_path / "p.html").stat().st_size > 0  # drawn with them
