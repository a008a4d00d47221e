"""plot_curves draws every curve, in the colours, legend, hover and labels a reader relies on.

The assertions read the plot the way a reader meets it (the points in the holoviews elements, and the
Bokeh model a notebook receives: its lines' colours, legend, hover and axis labels), not how the
plot is built, so they held for the one-element-per-trial overlay hvplot drew before (checked
against it) and hold for the NaN-separated lines drawn since. Expected values come from
``search.trials`` directly, not from :func:`nasbook.viz.curves_info`.
"""

import importlib.util
import math
from typing import Any

import numpy as np
import pytest

import nasbook
from nasbook.space import CellSpace
from nasbook.testing import ToyTask
from nasbook.viz import plot_curves

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")


@pytest.fixture(scope="module")
def many():
    space = CellSpace()
    return nasbook.Search(space, ToyTask(space, epochs=6), strategy="random", budget=40, seed=3, storage=":memory:").run(progress="none")


@pytest.fixture(scope="module")
def few():
    space = CellSpace()
    return nasbook.Search(space, ToyTask(space, epochs=4), strategy="random", budget=5, seed=4, storage=":memory:").run(progress="none")


def _expected(search: Any, top_k: int | None = None) -> set[tuple[int, int, float]]:
    """(trial, epochs trained, value) of every point plot_curves should draw."""
    continued = {t.parent for t in search.trials if t.parent is not None}
    kept = [t for t in search.trials if t.curves.get(search.metric) and t.number not in continued]
    if top_k is not None:
        kept = sorted((t for t in kept if t.value is not None), key=lambda t: (-t.value, t.number))[:top_k]
    return {(t.number, i + 1, float(v)) for t in kept for i, v in enumerate(t.curves[search.metric]) if not math.isnan(v)}


def _drawn(plot: Any) -> set[tuple[int, int, float]]:
    """(trial, epochs trained, value) of every point in the plot's elements; the trial from a ``trial``
    column, else from the overlay's key."""
    points = set()
    for key, element in plot.items():
        df = element.dframe()
        trial = df["trial"] if "trial" in df else [key] * len(df)
        for n, x, y in zip(trial, df["epochs trained"], df["curve"]):
            if not (math.isnan(x) or math.isnan(y)):
                points.add((int(n), int(x), float(y)))
    return points


def _rendered(plot: Any) -> Any:
    import holoviews as hv

    return hv.render(plot, backend="bokeh")


def _colour_of_trial(model: Any) -> dict[int, str]:
    colours: dict[int, str] = {}
    for r in model.renderers:
        data = r.data_source.data
        for n, y in zip(data["trial"], data["curve"]):
            if not math.isnan(y):
                assert colours.setdefault(int(n), r.glyph.line_color) == r.glyph.line_color  # one colour per trial
    return colours


@pytest.mark.parametrize("top_k", [None, 7])
def test_every_point_of_every_curve_is_drawn(many, curves, top_k):
    for search in (many, curves):  # ``curves``: successive halving, so continued trials and curves of 1 to 9 epochs
        expected = _expected(search, top_k)
        assert len({n for n, _, _ in expected}) == (top_k or len({t.number for t in search.trials} - {t.parent for t in search.trials}))
        assert _drawn(plot_curves(search, top_k=top_k)) == expected


def test_one_line_per_trial_no_line_joins_two_trials(many):
    """Between two trials drawn in one line there is a break (NaN), so no segment runs from one trial's
    last epoch to the next one's first."""
    model = _rendered(plot_curves(many))
    for r in model.renderers:
        data = r.data_source.data
        trial, x = np.asarray(data["trial"]), np.asarray(data["epochs_trained"], dtype=float)
        for i in range(1, len(x)):
            if not (math.isnan(x[i - 1]) or math.isnan(x[i])):
                assert trial[i] == trial[i - 1] and x[i] == x[i - 1] + 1


def test_colours_cycle_by_trial_number(many, few):
    import holoviews as hv

    cycle = hv.Cycle.default_cycles["default_colors"]
    for search in (many, few):
        numbers = sorted({n for n, _, _ in _expected(search)})
        assert _colour_of_trial(_rendered(plot_curves(search))) == {n: cycle[i % len(cycle)] for i, n in enumerate(numbers)}


def test_legend_lists_each_trial_up_to_ten_and_none_beyond(many, few):
    legend = _rendered(plot_curves(few)).legend
    assert [item.label.value for item in legend[0].items] == [str(t.number) for t in few.trials]
    model = _rendered(plot_curves(many))
    assert not any(leg.items for leg in model.legend)


def test_labels_title_and_hover(many):
    model = _rendered(plot_curves(many, top_k=7))
    assert model.xaxis[0].axis_label == "epochs trained"
    assert model.yaxis[0].axis_label == many.metric
    assert model.title.text == f"{many.metric} per epoch (top 7 trials)"
    hovers = [t for t in model.tools if type(t).__name__ == "HoverTool"]
    assert [name for name, _ in hovers[0].tooltips] == ["trial", "epochs trained", "curve"]
    assert _rendered(plot_curves(many)).title.text == f"{many.metric} per epoch (40 trials)"


def test_many_curves_draw_a_bounded_number_of_lines():
    """Scale guard: 300 curves are 12 Bokeh renderers (one per colour), not 300; one element and one
    renderer per trial took 11.6 s to render at 1,000 curves (docs/benchmarks.md)."""
    import holoviews as hv

    space = CellSpace()
    search = nasbook.Search(space, ToyTask(space, epochs=3), strategy="random", budget=300, seed=5, storage=":memory:").run(progress="none")
    plot = plot_curves(search)
    assert len(plot) <= len(hv.Cycle.default_cycles["default_colors"])
    assert len(_rendered(plot).renderers) <= len(hv.Cycle.default_cycles["default_colors"])
    assert _drawn(plot) == _expected(search)


def test_save_png_of_many_curves(many, tmp_path):
    pytest.importorskip("matplotlib")
    from nasbook.viz import save

    path = save(plot_curves(many), tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
