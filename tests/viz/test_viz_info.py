"""The data builders' numbers against hand computations on small searches."""

import math

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask
from nasbook.viz import curves_info, history_info, op_frequency_info, tradeoff_info


def _running_best(values, mode):
    best, out = None, []
    for v in values:
        if not math.isnan(v) and (best is None or (v > best if mode == "max" else v < best)):
            best = v
        out.append(math.nan if best is None else best)
    return out


# -- history ------------------------------------------------------------------------------------
def test_history_trials_by_hand(cora):
    ds = history_info(cora)
    assert ds["best_so_far"].dims == ("search", "step")
    assert list(ds["search"].values) == [cora.name]
    assert ds.attrs == {"x": "trials", "metric": "val_accuracy", "mode": "max"}
    values = [t.value for t in cora.trials]
    np.testing.assert_array_equal(ds["trials"].values[0], np.arange(1, 31))
    np.testing.assert_array_equal(ds["value"].values[0], values)
    np.testing.assert_array_equal(ds["best_so_far"].values[0], _running_best(values, "max"))
    np.testing.assert_array_equal(ds["best_so_far"].values[0], cora.to_xarray()["best_so_far"].values)
    assert ds["best_so_far"].values[0, -1] == cora.best.value
    assert (np.diff(ds["best_so_far"].values[0]) >= 0).all()


def test_history_respects_min_mode(minimised):
    ds = history_info(minimised)
    best = ds["best_so_far"].values[0]
    assert ds.attrs["mode"] == "min"
    assert (np.diff(best) <= 0).all()
    np.testing.assert_array_equal(best, _running_best([t.value for t in minimised.trials], "min"))
    assert best[-1] == minimised.best.value == min(t.value for t in minimised.trials)


def test_history_overlays_two_searches(cora, cora_evo):
    ds = history_info(cora, cora_evo)
    assert list(ds["search"].values) == [cora.name, cora_evo.name]
    assert ds.sizes == {"search": 2, "step": 30}
    evo = ds.sel(search=cora_evo.name)
    assert np.isnan(evo["trials"].values[20:]).all() and (evo["trial"].values[20:] == -1).all()
    alone = history_info(cora_evo)
    np.testing.assert_array_equal(evo["best_so_far"].values[:20], alone["best_so_far"].values[0])
    np.testing.assert_array_equal(ds.sel(search=cora.name)["best_so_far"].values, history_info(cora)["best_so_far"].values[0])


def test_history_same_names_are_made_unique(cora):
    a = nasbook.Search(NasBenchGraph("cora"), budget=3, seed=0, storage=":memory:", name="same").run()
    b = nasbook.Search(NasBenchGraph("cora"), budget=4, seed=1, storage=":memory:", name="same").run()
    assert list(history_info(a, b)["search"].values) == ["same", "same (2)"]


def test_history_refuses_mixed_modes(cora, minimised):
    with pytest.raises(InvalidParameterError, match="share a mode"):
        history_info(cora, minimised)


def test_history_epochs_counts_only_extra_epochs(curves):
    ds = history_info(curves, x="epochs")
    by_number = {t.number: t for t in curves.trials}
    spent, expected = 0, []
    for t in curves.trials:
        spent += t.epochs - (by_number[t.parent].epochs if t.parent is not None else 0)
        expected.append(spent)
    np.testing.assert_array_equal(ds["epochs"].values[0], expected)
    assert ds["epochs"].values[0, -1] == curves.epochs_spent
    assert any(t.parent is not None for t in curves.trials)  # the fixture does exercise continuations


def test_history_epochs_needs_training(cora):
    with pytest.raises(InvalidParameterError, match=r"x='epochs'.*x='trials'"):
        history_info(cora, x="epochs")


def test_history_seconds(cora):
    ds = history_info(cora, x="seconds")
    trials = sorted(cora.trials, key=lambda t: (t.finished_at, t.number))
    t0 = min(t.started_at for t in cora.trials)
    np.testing.assert_allclose(ds["seconds"].values[0], [t.finished_at - t0 for t in trials])
    assert (np.diff(ds["seconds"].values[0]) >= 0).all()
    assert ds["best_so_far"].values[0, -1] == cora.best.value


def test_history_errors_name_the_parameter(cora):
    with pytest.raises(InvalidParameterError, match=r"x=\.\.\.\) must be one of 'trials', 'epochs', 'seconds'; got 'trial'") as e:
        history_info(cora, x="trial")
    assert "did you mean 'trials'" in str(e.value)
    empty = nasbook.Search(NasBenchGraph("cora"), budget=5, seed=0, storage=":memory:")
    with pytest.raises(InvalidParameterError, match="no completed trials"):
        history_info(cora, empty)
    with pytest.raises(InvalidParameterError, match="at least one search"):
        history_info()
    with pytest.raises(TypeError, match="must be a nasbook Search"):
        history_info(cora.to_xarray())


# -- curves ---------------------------------------------------------------------------------------
def test_curves_by_hand(curves):
    ds = curves_info(curves)
    continued = {t.parent for t in curves.trials if t.parent is not None}
    kept = [t for t in curves.trials if t.number not in continued]
    assert ds.attrs["metric"] == "score" == curves.metric
    assert list(ds["trial"].values) == [t.number for t in kept]
    assert ds.sizes["epoch"] == max(len(t.curves["score"]) for t in kept) == 9
    for t in kept:
        row = ds["curve"].sel(trial=t.number).values
        c = t.curves["score"]
        np.testing.assert_array_equal(row[: len(c)], c)
        assert np.isnan(row[len(c):]).all()
        assert ds["epochs"].sel(trial=t.number) == len(c)


def test_curves_top_k_best_first(curves):
    ds = curves_info(curves, top_k=3)
    continued = {t.parent for t in curves.trials if t.parent is not None}
    ranked = sorted((t for t in curves.trials if t.number not in continued), key=lambda t: -t.value)
    assert list(ds["trial"].values) == [t.number for t in ranked[:3]]
    assert list(ds["value"].values) == [t.value for t in ranked[:3]]


def test_curves_errors(curves, cora):
    with pytest.raises(InvalidParameterError, match=r"metric=\.\.\.\) must be one of 'score'; got 'scor'"):
        curves_info(curves, metric="scor")
    with pytest.raises(InvalidParameterError, match="no learning curves"):
        curves_info(cora)
    with pytest.raises(InvalidParameterError, match="top_k"):
        curves_info(curves, top_k=0)


# -- trade-off ------------------------------------------------------------------------------------
def _brute_front(xs, ys, mode):
    s = 1.0 if mode == "max" else -1.0
    out = []
    for i in range(len(xs)):
        dominated = any(
            xs[j] <= xs[i] and s * ys[j] >= s * ys[i] and (xs[j] < xs[i] or s * ys[j] > s * ys[i]) for j in range(len(xs))
        )
        out.append(not dominated)
    return out


@pytest.mark.parametrize(("x", "y"), [("params_m", "value"), ("latency_ms", "value"), ("latency_ms", "test_accuracy")])
def test_tradeoff_front_vs_brute_force(cora, x, y):
    ds = tradeoff_info(cora, x=x, y=y)
    assert ds.sizes["trial"] == 30
    xs = [t.attrs[x] for t in cora.trials]
    ys = [t.value if y == "value" else t.attrs[y] for t in cora.trials]
    np.testing.assert_array_equal(ds[x].values, xs)
    np.testing.assert_array_equal(ds[y].values, ys)
    assert list(ds["on_front"].values) == _brute_front(xs, ys, "max")
    assert 1 <= ds["on_front"].sum() < 30


def test_tradeoff_min_mode(minimised):
    ds = tradeoff_info(minimised, x="test_score", y="value")
    xs = [t.attrs["test_score"] for t in minimised.trials]
    ys = [t.value for t in minimised.trials]
    assert list(ds["on_front"].values) == _brute_front(xs, ys, "min")


def test_tradeoff_errors(cora):
    with pytest.raises(InvalidParameterError, match=r"x=\.\.\.\) must be one of .*'params_m'.*; got 'params'") as e:
        tradeoff_info(cora, x="params")
    assert "did you mean 'params_m'" in str(e.value)
    with pytest.raises(InvalidParameterError, match=r"y=\.\.\.\)"):
        tradeoff_info(cora, y="best_so_far")
    with pytest.raises(InvalidParameterError, match="must differ"):
        tradeoff_info(cora, x="value", y="value")


# -- op frequency ---------------------------------------------------------------------------------
def test_op_frequency_graph_by_hand(cora):
    ds = op_frequency_info(cora, top=0.1)
    ranked = sorted(cora.trials, key=lambda t: (-t.value, t.number))
    assert ds.attrs["n_top"] == 3 and ds.attrs["n_all"] == 30
    assert list(ds["op"].values) == list(cora.space._ops)
    for group, trials in (("top", ranked[:3]), ("all", ranked)):
        ops = [o for t in trials for o in t.arch.spec["ops"]]
        for op in ds["op"].values:
            assert ds["count"].sel(group=group, op=op) == ops.count(op)
            assert ds["frequency"].sel(group=group, op=op) == pytest.approx(ops.count(op) / len(ops))
    np.testing.assert_allclose(ds["frequency"].sum("op").values, [1.0, 1.0])
    assert ds["count"].sel(group="all").sum() == 4 * 30


def test_op_frequency_top_k_and_dedup(curves):
    ds = op_frequency_info(curves, top=5)
    n_archs = len({t.arch.id for t in curves.trials})
    assert ds.attrs["n_top"] == 5 and ds.attrs["n_all"] == n_archs < curves.n_trials
    assert ds["count"].sel(group="top").sum() == 5 * 4
    assert ds["count"].sel(group="all").sum() == n_archs * 4


@pytest.mark.parametrize("kind", ["CellSpace", "ChainSpace"])
def test_op_frequency_other_spaces(kind):
    space = getattr(nasbook.space, kind)()
    search = nasbook.Search(space, ToyTask(space), budget=12, seed=0, storage=":memory:").run()
    ds = op_frequency_info(search, top=0.25)
    key = "edges" if kind == "CellSpace" else "layers"
    ops = [o if key == "edges" else o[0] for t in search.trials for o in t.arch.spec[key]]
    assert ds.attrs["n_top"] == 3
    for op in set(ops):
        assert ds["count"].sel(group="all", op=op) == ops.count(op)
    if kind == "CellSpace":
        assert "none" in ds["op"].values  # counted like any other op
    np.testing.assert_allclose(ds["frequency"].sum("op").values, [1.0, 1.0])


@pytest.mark.parametrize("top", [0, 0.0, 1.5, -2, True, "10%"])
def test_op_frequency_bad_top(cora, top):
    with pytest.raises(InvalidParameterError, match=r"top=\.\.\.\) must be a float in \(0, 1\] or an int >= 1"):
        op_frequency_info(cora, top=top)
