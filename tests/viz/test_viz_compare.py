"""compare_info / plot_compare: strategies aggregated over seeds, checked against a hand computation."""

import importlib.util

import numpy as np
import pytest
from scipy import stats

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import RegularizedEvolution
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask
from nasbook.viz import compare_info, plot_compare

BUDGET = 15
SEEDS = (0, 1, 2)


def _run(task, strategy, seed, budget=BUDGET):
    return nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:").run(progress="none")


@pytest.fixture(scope="module")
def task():
    return NasBenchGraph("cora")


@pytest.fixture(scope="module")
def runs(task):
    """random and a small-population evolution (it leaves random sampling within 15 trials), 3 seeds each."""
    rand = [_run(task, "random", s) for s in SEEDS]
    evo = [_run(task, RegularizedEvolution(population_size=5, sample_size=3), s) for s in SEEDS]
    return rand, evo


def _by_hand(search, optimum):
    values = np.array([t.value for t in search.trials], dtype=float)
    return optimum - np.maximum.accumulate(values)


def test_values_match_a_hand_computation(task, runs):
    rand, evo = runs
    ds = compare_info(*rand, *evo)
    optimum = task.optimum()[1]
    assert ds.attrs["y"] == "regret" and ds.attrs["optimum"] == optimum and ds.attrs["reference"] == "random"
    assert list(ds["group"].values) == ["random", "evolution"]
    assert list(ds["seed"].values) == list(SEEDS)
    assert list(ds["trials"].values) == list(range(1, BUDGET + 1))
    for g, searches in (("random", rand), ("evolution", evo)):
        hand = np.stack([_by_hand(s, optimum) for s in searches])
        np.testing.assert_allclose(ds["regret"].sel(group=g).values, hand)
        np.testing.assert_allclose(ds["best_so_far"].sel(group=g).values, optimum - hand)
        np.testing.assert_allclose(ds["mean"].sel(group=g).values, hand.mean(axis=0))
        np.testing.assert_allclose(ds["median"].sel(group=g).values, np.median(hand, axis=0))
        low, high = stats.t.interval(0.95, df=2, loc=hand.mean(axis=0), scale=stats.sem(hand, axis=0))
        low = np.maximum(low, 0.0)  # cut at 0: the mean regret cannot be negative
        flat = hand.std(axis=0) == 0  # scipy's t.interval gives NaN for a zero scale: a zero-width interval here
        np.testing.assert_allclose(ds["low"].sel(group=g).values[~flat], low[~flat])
        np.testing.assert_allclose(ds["high"].sel(group=g).values[~flat], high[~flat])
        np.testing.assert_allclose(ds["low"].sel(group=g).values[flat], hand.mean(axis=0)[flat])
        assert list(ds["search"].sel(group=g).values) == [s.name for s in searches]
    assert (ds["regret"].values >= 0).all()
    # the final regret of each search is its best trial's gap to the optimum
    assert ds["regret"].sel(group="evolution").isel(step=-1).values.tolist() == [optimum - s.best.value for s in evo]


def _t(a):
    """Student-t 95% interval of the mean over axis 0, by hand."""
    m, h = a.mean(axis=0), stats.t.ppf(0.975, len(a) - 1) * a.std(axis=0, ddof=1) / np.sqrt(len(a))
    return m - h, m + h


def test_the_t_band_of_regret_stays_at_or_above_zero(runs):
    rand, evo = runs
    ds = compare_info(*rand, *evo)
    assert ds.attrs["lower_bound"] == 0.0 and ds.attrs["upper_bound"] == np.inf
    crossed = 0
    for g in ("random", "evolution"):
        low, high = _t(ds["regret"].sel(group=g).values)
        crossed += int((low < 0).sum())
        np.testing.assert_allclose(ds["low"].sel(group=g), np.maximum(low, 0.0))  # cut at 0 ...
        np.testing.assert_allclose(ds["high"].sel(group=g), high)  # ... and nothing else changed
    assert crossed, "the fixture should have a step where the uncut t interval goes below 0"
    assert (ds["low"].values >= 0).all() and (ds["low"].values <= ds["mean"].values).all()


def test_the_t_band_of_best_so_far_stays_at_or_below_the_optimum(task, runs):
    rand, evo = runs
    ds = compare_info(*rand, *evo, y="best_so_far")
    optimum = task.optimum()[1]
    assert ds.attrs["upper_bound"] == optimum and ds.attrs["lower_bound"] == -np.inf
    crossed = 0
    for g in ("random", "evolution"):
        low, high = _t(ds["best_so_far"].sel(group=g).values)
        crossed += int((high > optimum).sum())
        np.testing.assert_allclose(ds["high"].sel(group=g), np.minimum(high, optimum))
        np.testing.assert_allclose(ds["low"].sel(group=g), low)
    assert crossed, "the fixture should have a step where the uncut t interval passes the optimum"


def test_an_unbounded_quantity_keeps_the_plain_t_interval(curves):
    twin = nasbook.Search(curves.space, curves.task, strategy=curves.strategy, budget=30, seed=1, storage=":memory:").run(progress="none")
    ds = compare_info(curves, twin, by=lambda s: "sh", x="epochs", checkpoints=[])  # ToyTask knows no optimum
    assert ds.attrs["lower_bound"] == -np.inf and ds.attrs["upper_bound"] == np.inf
    a = ds["best_so_far"].squeeze("group").values
    ok = np.isfinite(a).all(axis=0)
    low, high = _t(a[:, ok])
    np.testing.assert_allclose(ds["low"].squeeze().values[ok], low)
    np.testing.assert_allclose(ds["high"].squeeze().values[ok], high)


def test_no_bound_when_a_recorded_value_breaks_it():
    from nasbook.viz._intervals import _interval, _support

    regret = np.array([[0.0, -0.02], [0.1, 0.05]])  # a low-fidelity value beat the top-fidelity optimum
    assert _support(regret, "regret", "max", 0.8) == (-np.inf, np.inf)
    assert _support(np.abs(regret), "regret", "max", 0.8) == (0.0, np.inf)
    assert _support(np.array([[0.7, 0.9]]), "best_so_far", "max", 0.8) == (-np.inf, np.inf)
    assert _support(np.array([[0.9, 1.2]]), "best_so_far", "min", 0.8) == (0.8, np.inf)
    assert _support(np.array([[0.9, 1.2]]), "best_so_far", "min", None) == (-np.inf, np.inf)
    a = np.array([[0.0, 10.0], [0.0, 11.0], [0.3, 12.0]])
    rng = np.random.default_rng(0)
    low, high = _interval(a, "mean", "t", 0.95, rng)
    cut_low, cut_high = _interval(a, "mean", "t", 0.95, rng, (0.0, np.inf))
    assert low[0] < 0 and cut_low[0] == 0.0 and cut_low[1] == low[1] > 0
    np.testing.assert_array_equal(cut_high, high)


def test_wilcoxon_p_against_scipy(task, runs):
    rand, evo = runs
    optimum = task.optimum()[1]
    ds = compare_info(*rand, *evo, checkpoints=[5, 10, 15])
    assert list(ds["checkpoint"].values) == [5, 10, 15]
    for k, c in enumerate((5, 10, 15)):
        a = np.array([_by_hand(s, optimum)[c - 1] for s in evo])
        b = np.array([_by_hand(s, optimum)[c - 1] for s in rand])
        p = 1.0 if np.all(a == b) else stats.wilcoxon(a, b).pvalue
        assert ds["p_value"].sel(group="evolution").values[k] == pytest.approx(p)
        assert ds["diff"].sel(group="evolution").values[k] == pytest.approx((a - b).mean())
        assert ds["n_pairs"].sel(group="evolution").values[k] == 3
    assert np.isnan(ds["p_value"].sel(group="random").values).all()  # the reference is not tested against itself
    assert not np.all(ds["diff"].sel(group="evolution").values == 0), "the fixture should give a non-trivial test"
    # against the other reference the differences flip sign and the p-values stay
    flipped = compare_info(*rand, *evo, checkpoints=[5, 10, 15], reference="evolution")
    np.testing.assert_allclose(flipped["diff"].sel(group="random"), -ds["diff"].sel(group="evolution"))
    np.testing.assert_allclose(flipped["p_value"].sel(group="random"), ds["p_value"].sel(group="evolution"))


def test_all_equal_differences_give_p_one(runs):
    rand, _ = runs
    ds = compare_info(by={"a": rand, "b": rand})  # the same searches twice: every difference is 0
    assert ds["p_value"].sel(group="b").item() == 1.0
    assert ds["diff"].sel(group="b").item() == 0.0


def test_grouping_by_callable_and_mapping(runs):
    rand, evo = runs
    by_call = compare_info(*rand, *evo, by=lambda s: "R" if s in rand else "E")
    by_map = compare_info(by={"R": rand, "E": evo})
    assert list(by_call["group"].values) == ["R", "E"] == list(by_map["group"].values)
    np.testing.assert_allclose(by_call["mean"], by_map["mean"])
    np.testing.assert_allclose(by_call["p_value"].sel(group="E"), by_map["p_value"].sel(group="E"))


def test_bootstrap_interval_of_the_median(runs):
    rand, evo = runs
    ds = compare_info(*rand, *evo, stat="median", interval="bootstrap")
    again = compare_info(*rand, *evo, stat="median", interval="bootstrap")
    np.testing.assert_array_equal(ds["low"], again["low"])  # random_state makes it reproducible
    med, low, high = ds["median"].values, ds["low"].values, ds["high"].values
    assert (low <= med + 1e-12).all() and (med <= high + 1e-12).all()
    regret = ds["regret"].values  # the percentile interval of a median lies within the seeds' range
    assert (low >= regret.min(axis=1) - 1e-12).all() and (high <= regret.max(axis=1) + 1e-12).all()


def test_one_seed_group_has_no_interval(runs):
    rand, evo = runs
    ds = compare_info(*rand, evo[0], checkpoints=[])
    assert int(ds["n_seeds"].sel(group="evolution")) == 1
    assert np.isnan(ds["low"].sel(group="evolution")).all() and np.isnan(ds["high"].sel(group="evolution")).all()
    np.testing.assert_allclose(ds["mean"].sel(group="evolution"), ds["regret"].sel(group="evolution", seed=0))
    assert not np.isnan(ds["low"].sel(group="random")).all()


def test_best_so_far_without_an_optimum_and_epochs(curves):
    ds = compare_info(curves, x="epochs")  # ToyTask knows no optimum: the best value itself
    assert ds.attrs["y"] == "best_so_far" and "regret" not in ds and "optimum" not in ds.attrs
    assert np.all(np.diff(ds["epochs"].values) > 0)
    assert ds["mean"].isel(step=-1).item() == curves.best.value
    assert ds["epochs"].values[-1] == curves.epochs_spent
    with pytest.raises(InvalidParameterError, match=r"compare_info\(y='regret'\).*optimum"):
        compare_info(curves, y="regret")


class MinToyWithOptimum(ToyTask):
    """A minimised task that knows its optimum, to check the regret's sign."""

    mode = "min"

    def optimum(self):
        return None, -1.0


def test_minimised_regret_is_best_minus_optimum():
    space = GraphSpace(ops=PROTEINS_OPS)
    task = MinToyWithOptimum(space)
    searches = [nasbook.Search(space, task, strategy="random", budget=5, seed=s, storage=":memory:").run(progress="none")
                for s in (0, 1)]
    ds = compare_info(*searches)
    assert ds.attrs["y"] == "regret" and ds.attrs["mode"] == "min"
    np.testing.assert_allclose(ds["regret"], ds["best_so_far"] + 1.0)
    values = np.array([t.value for t in searches[0].trials])
    np.testing.assert_allclose(ds["best_so_far"].sel(seed=0).squeeze(), np.minimum.accumulate(values))


def test_y_best_so_far_on_a_task_with_an_optimum(runs):
    rand, _ = runs
    ds = compare_info(*rand, y="best_so_far")
    assert ds.attrs["y"] == "best_so_far" and "regret" not in ds
    np.testing.assert_allclose(ds["mean"].squeeze(), ds["best_so_far"].mean("seed").squeeze())


def test_errors_name_the_parameter_and_what_was_given(runs, task, cora, minimised):
    rand, evo = runs
    with pytest.raises(InvalidParameterError, match=r"needs at least one search.*got none"):
        compare_info()
    with pytest.raises(InvalidParameterError, match=r"share one mode.*\(max\).*\(min\)"):
        compare_info(rand[0], minimised)
    proteins = _run(NasBenchGraph("proteins"), "random", 0, budget=3)
    with pytest.raises(InvalidParameterError, match=r"share one metric.*val_accuracy.*val_roc_auc"):
        compare_info(rand[0], proteins)
    citeseer = _run(NasBenchGraph("citeseer"), "random", 0, budget=3)
    with pytest.raises(InvalidParameterError, match=r"share one task.*nbg-cora.*nbg-citeseer"):
        compare_info(rand[0], citeseer)
    with pytest.raises(InvalidParameterError, match=r"group 'random' has two searches with seed 0"):
        compare_info(*rand, cora)
    with pytest.raises(InvalidParameterError, match=r"same seeds to be paired; seeds \[2\] are only in 'random'.*checkpoints=\[\]"):
        compare_info(*rand, *evo[:2])
    assert compare_info(*rand, *evo[:2], checkpoints=[])["checkpoint"].size == 0  # curves without a test
    with pytest.raises(InvalidParameterError, match=r"compare_info\(x=\.\.\.\) must be one of 'trials', 'epochs'; got 'seconds'"):
        compare_info(*rand, x="seconds")
    with pytest.raises(InvalidParameterError, match=r"interval='t'\) is an interval of the mean; got stat='median'"):
        compare_info(*rand, stat="median")
    with pytest.raises(InvalidParameterError, match=r"reference=\.\.\.\) must be one of the groups 'random', 'evolution'; got 'evo'"):
        compare_info(*rand, *evo, reference="evo")
    with pytest.raises(InvalidParameterError, match=r"checkpoints=\.\.\.\) must be trials counts from 1 to 15; got \[0, 20\]"):
        compare_info(*rand, *evo, checkpoints=[0, 20])
    with pytest.raises(InvalidParameterError, match=r"confidence=\.\.\.\) must be a number in \(0, 1\)"):
        compare_info(*rand, confidence=95)
    with pytest.raises(InvalidParameterError, match=r"by=\.\.\.\) must be 'strategy', a callable"):
        compare_info(*rand, by="seed")
    with pytest.raises(InvalidParameterError, match=r"pass none positionally"):
        compare_info(*rand, by={"a": evo})
    with pytest.raises(InvalidParameterError, match=r"group 'evolution' mixes strategy configurations"):
        compare_info(evo[0], _run(task, "evolution", 5, budget=3))
    with pytest.raises(InvalidParameterError, match=r"searches=\.\.\.\) must be a nasbook Search; got 3"):
        compare_info(rand[0], 3)


def test_a_mixed_space_is_refused():
    a, b = GraphSpace(ops=PROTEINS_OPS), GraphSpace()
    one = nasbook.Search(a, ToyTask(a), strategy="random", budget=3, seed=0, storage=":memory:").run(progress="none")
    two = nasbook.Search(b, ToyTask(b), strategy="random", budget=3, seed=1, storage=":memory:").run(progress="none")
    with pytest.raises(InvalidParameterError, match=r"must share one (task|search space) to be compared"):
        compare_info(one, two, checkpoints=[])


@pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")
def test_plot_builds_with_a_band_per_group_of_several_seeds(runs, tmp_path):
    import holoviews as hv

    rand, evo = runs
    plot = plot_compare(*rand, evo[0], logy=True)
    assert isinstance(plot, hv.Overlay)
    kinds = [type(el).__name__ for el in plot]
    assert kinds == ["Area", "Curve", "Curve"]  # the one-seed group gets no band
    labels = [el.label for el in plot if type(el) is hv.Curve]
    assert labels == ["random (3 seeds)", "evolution (1 seed, no band)"]
    assert isinstance(plot_compare(*rand, *evo, stat="median", interval="bootstrap"), hv.Overlay)
    nasbook.viz.save(plot_compare(*rand, *evo), tmp_path / "compare.html")
    if importlib.util.find_spec("matplotlib") is not None:
        band = plot_compare(*rand, *evo).get(0)
        assert hv.Store.lookup_options("matplotlib", band, "style").kwargs["alpha"] == 0.2  # a PNG keeps the band see-through
        assert nasbook.viz.save(plot_compare(*rand, *evo), tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InvalidParameterError, match=r"^plot_compare\(x=\.\.\.\)"):
        plot_compare(*rand, x="seconds")
    with pytest.raises(InvalidParameterError, match=r"^plot_compare\(logy=\.\.\.\) must be True or False"):
        plot_compare(*rand, logy="yes")


def test_epochs_curves_stop_where_a_seed_stops():
    from nasbook.strategies import SuccessiveHalving

    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, epochs=5)
    searches = [nasbook.Search(space, task, strategy=SuccessiveHalving(max_epochs=9, n_initial=9), budget=b, seed=s,
                               storage=":memory:").run(progress="none") for s, b in ((0, 12), (1, 16))]
    ds = compare_info(*searches, x="epochs")
    ends = [s.epochs_spent for s in searches]
    assert ends[0] != ends[1] and ds["epochs"].values[-1] == max(ends)
    every_seed = np.isfinite(ds["best_so_far"]).all("seed").squeeze().values
    assert (np.isfinite(ds["mean"].squeeze().values) == every_seed).all()
    assert not every_seed[-1]  # past the shorter search's end there is no mean
    assert ds["checkpoint"].values.tolist() == [min(ends)]  # the default test: the last x both reached


@pytest.mark.skipif(importlib.util.find_spec("hvplot") is None or importlib.util.find_spec("matplotlib") is None,
                    reason="needs hvplot and matplotlib")
def test_a_png_keeps_the_callers_size_and_title_with_the_legend_beside_the_bands(runs, tmp_path):
    import holoviews as hv

    rand, evo = runs
    plot = plot_compare(*rand, *evo, width=650, height=350, title="two strategies")
    assert nasbook.viz.save(plot, tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    fig = hv.render(plot, backend="matplotlib")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((6.5, 3.5))  # not matplotlib's 4-inch square
    assert ax.get_title() == "two strategies"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["random (3 seeds)", "evolution (3 seeds)"]
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the axes, not over the bands


@pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")
def test_plot_says_what_it_shows_and_keeps_the_legend_off_the_curves(runs):
    import holoviews as hv
    from bokeh.models import Legend

    rand, evo = runs
    plot = plot_compare(*rand, *evo)
    title = hv.Store.lookup_options("bokeh", plot, "plot").kwargs["title"]
    assert title == "mean regret on nbg-cora (band: 95% t interval over seeds, cut at 0: regret >= 0)"
    fig = hv.render(plot, backend="bokeh")
    assert (fig.width, fig.height) == (700, 350)  # not bokeh's 300 x 300 square
    assert any(isinstance(r, Legend) for r in fig.right) and not any(isinstance(r, Legend) for r in fig.center)
    best = hv.Store.lookup_options("bokeh", plot_compare(*rand, *evo, y="best_so_far"), "plot").kwargs["title"]
    assert best.startswith("mean best so far on nbg-cora") and best.endswith("cut at the optimum 0.8193)")
    boot = hv.Store.lookup_options("bokeh", plot_compare(*rand, stat="median", interval="bootstrap"), "plot").kwargs["title"]
    assert boot == "median regret on nbg-cora (band: 95% bootstrap interval over seeds)"  # within the seeds' range: nothing to cut
    assert hv.render(plot_compare(*rand, *evo, width=500), backend="bokeh").width == 500
    one = hv.Store.lookup_options("bokeh", plot_compare(rand[0]), "plot").kwargs["title"]
    assert one == "mean regret on nbg-cora (one seed: no interval)"  # no band is drawn: the title names none
