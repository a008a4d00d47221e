"""A PNG (save() draws it with holoviews' matplotlib backend) keeps the styles a reader relies on.

hvplot and ``.opts()`` set options for bokeh, the current backend; matplotlib read none of them, so a
PNG lost the dots' transparency, the best-so-far steps, the dashed Pareto front, the log axis, the
legend of grouped bars, the clusters' colours and the titles. Each test renders what save() renders
and looks at the matplotlib artists.
"""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from nasbook.viz import (
    plot_curves,
    plot_history,
    plot_op_frequency,
    plot_predictions,
    plot_predictor_scores,
    plot_tradeoff,
    save,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hvplot") is None or importlib.util.find_spec("matplotlib") is None,
    reason="needs hvplot and matplotlib",
)


def _axes(obj, tmp_path, name):
    """The matplotlib axes of ``obj`` as save() draws them, after checking that save() writes a PNG."""
    import holoviews as hv

    assert save(obj, tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = hv.render(obj, backend="matplotlib")
    fig.canvas.draw()
    return fig.axes[0]


def _hex(colour):
    from matplotlib.colors import to_hex

    return to_hex(colour)


def _legend(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


def test_history_keeps_see_through_dots_steps_colours_and_title(cora, cora_evo, tmp_path):
    ax = _axes(plot_history(cora, cora_evo, title="two runs"), tmp_path, "history")
    assert ax.get_title() == "two runs" and ax.get_ylabel() == cora.metric
    dots = [c for c in ax.collections if len(c.get_offsets())]
    assert len(dots) == 2 and all(c.get_alpha() == 0.35 for c in dots)
    assert len(ax.lines) == 2
    for line in ax.lines:  # a step after each trial: every x but the ends twice, not a ramp between trials
        x = np.asarray(line.get_xdata(), dtype=float)
        assert len(x) > 2 and np.all(np.diff(x)[1::2] == 0)
    # one colour per search, shared by its dots and its step line; the legend names the lines only
    assert [_hex(c.get_facecolor()[0]) for c in dots] == [_hex(line.get_color()) for line in ax.lines]
    assert len({_hex(line.get_color()) for line in ax.lines}) == 2
    # a name the search gave itself (search-20261130-...) says nothing: the legend names strategy and seed
    assert _legend(ax) == ["random, seed 0", "evolution, seed 1"]
    fig = ax.figure  # the bokeh plot's shape (700 x 300), not matplotlib's square
    assert fig.get_size_inches()[0] / fig.get_size_inches()[1] == pytest.approx(7 / 3)
    ax = _axes(plot_history(cora, cora_evo), tmp_path, "history_title")
    assert ax.get_title() == f"best {cora.metric} so far (line) and each trial's (dots) on nbg-cora, maximised"


def test_tradeoff_keeps_the_black_dashed_front(cora, tmp_path):
    ax = _axes(plot_tradeoff(cora, x="latency_ms"), tmp_path, "tradeoff")
    (front,) = ax.lines
    assert _hex(front.get_color()) == "#000000" and front.get_linestyle() == "--"
    assert _legend(ax) == ["dominated", "Pareto front"] and "trials on the Pareto front" in ax.get_title()
    # the axes name the metric (not "value") and the unit (not "latency_ms")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("latency (ms)", cora.metric)
    assert ax.get_title().startswith(f"{cora.metric} vs latency (ms)")
    ax = _axes(plot_tradeoff(cora), tmp_path, "tradeoff_params")
    assert ax.get_xlabel() == "params (millions)"


def test_curves_keep_title_label_and_drop_a_legend_of_many_trials(curves, tmp_path):
    ax = _axes(plot_curves(curves, top_k=3), tmp_path, "curves3")
    assert ax.get_title() == f"{curves.metric} per epoch (top 3 trials)" and ax.get_ylabel() == curves.metric
    assert len(_legend(ax)) == 3
    # a curve's first value is after one epoch of training: x counts from 1, not from a 0 that reads "untrained"
    assert ax.get_xlabel() == "epochs trained"
    assert min(float(np.min(line.get_xdata())) for line in ax.lines) == 1.0
    ax = _axes(plot_curves(curves), tmp_path, "curves")
    assert len(ax.lines) > 10 and _legend(ax) == []  # as in bokeh: no legend of more than 10 trials


def test_op_frequency_keeps_its_groups_apart_with_a_legend(cora, tmp_path):
    ax = _axes(plot_op_frequency(cora, top=5), tmp_path, "ops")
    assert _legend(ax) == ["all 30", "top 5"]
    assert len({_hex(p.get_facecolor()) for p in ax.patches}) == 2  # one colour per group
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and not any(t.startswith(("all", "top")) for t in labels)  # op names only
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {45.0}
    assert ax.get_ylabel() == "share of op slots"
    assert ax.get_title() == f"ops of the 5 best architectures by {cora.metric} vs all 30"


@pytest.fixture(scope="module")
def scores_ds():
    from nasbook.predictors import RandomForest, evaluate
    from nasbook.tasks import DigitsTable

    # four lines as with both default baselines, but the 'onehot-gbt' baseline (calibrated boosted trees, ~8 s of
    # fits) is a third cheap forest: the plot draws every predictor alike (the baseline itself: test_evaluate.py)
    forests = {name: RandomForest(n_estimators=n, calibration="none") for name, n in (("a", 5), ("b", 2), ("c", 3))}
    return evaluate(forests, DigitsTable(), n_train=[10, 30], seeds=3, n_test=60, baselines=["#params"], progress=False)


def test_predictor_scores_keep_the_log_axis_bands_and_reference(scores_ds, tmp_path):
    ax = _axes(plot_predictor_scores(scores_ds), tmp_path, "scores")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "training architectures"
    bands = [c for c in ax.collections if c.get_alpha() == 0.2]
    lines = {_hex(line.get_color()): line for line in ax.lines}
    reference = lines.pop("#808080")
    assert reference.get_alpha() == 0.7
    assert len(bands) == len(lines) >= 2 and {_hex(b.get_facecolor()[0]) for b in bands} == set(lines)  # a band per line, its colour
    assert "noise ceiling" in ax.get_title()


def test_predictions_keep_see_through_points_and_the_grey_diagonal(tmp_path):
    from nasbook.predictors import RandomForest
    from nasbook.tasks import DigitsTable

    task = DigitsTable()
    archs, y = task.space.enumerate(), task.values()
    p = RandomForest(n_estimators=5, calibration="none").fit(archs[:40], y[:40])
    p.score(archs[40:100], y[40:100])
    ax = _axes(plot_predictions(p), tmp_path, "predictions")
    (points,) = ax.collections
    (diagonal,) = ax.lines
    assert points.get_alpha() == 0.5 and _hex(diagonal.get_color()) == "#808080" and diagonal.get_alpha() == 0.7
    assert ax.get_title().startswith("predicted vs true")


def test_knowledge_plots_keep_cluster_colours_labels_and_titles(tmp_path):
    from nasbook.knowledge import plot_neighbourhood, plot_task_map

    dist = pd.DataFrame([[0, 0.2, 0.8, 0.9], [0.2, 0, 0.7, 0.8], [0.8, 0.7, 0, 0.1], [0.9, 0.8, 0.1, 0]],
                        index=list("abcd"), columns=list("abcd"))
    clusters = pd.DataFrame({"task": list("abcd"), "cluster": [0, 0, 1, 1]})
    ax = _axes(plot_task_map(dist, clusters), tmp_path, "task_map")
    (points,) = ax.collections
    colours = [_hex(c) for c in points.to_rgba(points.get_array())]
    assert colours[0] == colours[1] and colours[2] == colours[3] and colours[0] != colours[2]  # by cluster
    assert {t.get_va() for t in ax.texts} == {"bottom"}  # the names above their points, not over them
    assert ax.get_title().startswith("task map")
    near = pd.DataFrame({"arch_id": ["x", "y"], "distance": [0.1, 0.5], "value": [0.8, 0.7], "quantile": [0.9, 0.5]})
    near.attrs.update(task="cora", query="q", kind="graph")
    ax = _axes(plot_neighbourhood(near), tmp_path, "neighbourhood")
    assert ax.get_title().startswith("neighbours of q") and ax.get_xlabel() == "distance to the query"


def test_predictor_scores_tick_the_measured_sizes_and_keep_bands_in_the_metric_range(scores_ds, tmp_path):
    from nasbook.viz import predictor_scores_info

    ax = _axes(plot_predictor_scores(scores_ds), tmp_path, "scores_ticks")
    assert list(ax.get_xticks()) == [10, 30]  # the training-set sizes, not 10^1, 2x10^1, 3x10^1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "30"]
    assert not any(t.get_text() for t in ax.get_xticklabels(minor=True))
    for metric, (lower, upper) in (("kendall_tau", (-1, 1)), ("coverage_68", (0, 1)), ("fit_s", (0, np.inf))):
        for band in ("ci95", "std"):
            info = predictor_scores_info(scores_ds, metric=metric, band=band)
            lo, hi = info["lo"].values, info["hi"].values
            assert np.all(lo[np.isfinite(lo)] >= lower) and np.all(hi[np.isfinite(hi)] <= upper)
    # a band that would leave [0, 1] is cut there, and only there
    info = predictor_scores_info(scores_ds, metric="coverage_68")
    da = scores_ds["coverage_68"]
    from scipy import stats

    n = da.notnull().sum("seed")
    half = stats.t.ppf(0.975, n - 1) * da.std("seed", ddof=1) / np.sqrt(n)
    np.testing.assert_allclose(info["hi"], (da.mean("seed") + half).clip(max=1.0))
    np.testing.assert_allclose(info["lo"], (da.mean("seed") - half).clip(min=0.0))


def test_predictions_share_one_scale_on_both_axes(tmp_path):
    from nasbook.predictors import RandomForest
    from nasbook.tasks import DigitsTable

    task = DigitsTable()
    archs, y = task.space.enumerate(), task.values()
    p = RandomForest(n_estimators=5, calibration="none").fit(archs[:40], y[:40])
    p.score(archs[40:100], y[40:100])
    ax = _axes(plot_predictions(p), tmp_path, "predictions_scale")
    assert ax.get_xlim() == pytest.approx(ax.get_ylim())  # the diagonal is the 45-degree line
    (points,) = ax.collections
    xy = points.get_offsets()
    assert ax.get_xlim()[0] <= xy.min() and xy.max() <= ax.get_xlim()[1]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted score", "true score")


def _inside(ax):
    """Whether every text drawn on ``ax`` lies within the axes."""
    box = ax.get_window_extent()
    return all(box.x0 <= t.get_window_extent().x0 and t.get_window_extent().x1 <= box.x1
               and box.y0 <= t.get_window_extent().y0 and t.get_window_extent().y1 <= box.y1 for t in ax.texts)


def test_knowledge_plots_are_readable(tmp_path):
    from nasbook.knowledge import plot_neighbourhood, plot_task_map

    names = ["nbg-arxiv", "nbg-computers", "nbg-citeseer", "nbg-physics"]  # long names at the map's edges
    dist = pd.DataFrame([[0, 0.2, 0.8, 0.9], [0.2, 0, 0.7, 0.8], [0.8, 0.7, 0, 0.1], [0.9, 0.8, 0.1, 0]], index=names, columns=names)
    for method in ("mds", "pca"):
        ax = _axes(plot_task_map(dist, method=method), tmp_path, f"task_map_{method}")
        assert tuple(ax.figure.get_size_inches()) == pytest.approx((6, 4.2))  # not a 4-inch square under a long title
        assert _inside(ax), "a task's name runs past the axes"
        assert {_hex(t.get_color()) for t in ax.texts} == {"#000000"}
        (points,) = ax.collections
        for text, xy in zip(ax.texts, points.get_offsets()):  # above its point, not over the marker
            assert text.get_position()[1] > xy[1]
    near = pd.DataFrame({"arch_id": ["x", "y"], "distance": [0.1, 0.5], "value": [0.8, 0.7], "quantile": [0.9, 0.5]})
    near.attrs.update(task="nbg-cora", query="q", kind="graf")
    ax = _axes(plot_neighbourhood(near), tmp_path, "neighbourhood_label")
    assert ax.get_ylabel() == "mean value on nbg-cora"
    assert ax.figure.get_size_inches()[0] == pytest.approx(6)
    title = ax.title.get_window_extent()
    assert title.x0 >= 0 and title.x1 <= ax.figure.bbox.x1  # the title fits the figure
