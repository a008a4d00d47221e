"""nasbook.predictors.evaluate: predictor scores against training-set size on a tabular task."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from scipy import stats

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError
from nasbook.predictors import BasePredictor, RandomForest, evaluate, top_k_count, top_k_overlap
from nasbook.predictors._evaluate import BASELINES, VARIABLES
from nasbook.tasks import Digits, DigitsTable, NasBenchGraph


@pytest.fixture(autouse=True)
def _one_thread():
    """Per-core timings, and no OpenMP oversubscription of a shared machine (boosted trees took 20x longer)."""
    import sklearn.ensemble  # noqa: F401 - loads scikit-learn's OpenMP runtime, so that the limit reaches it
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


class Spy(BasePredictor):
    """A cheap linear model that records which architectures each clone is fitted on and predicts."""

    log: ClassVar[list[tuple[str, int | None, list[str]]]] = []

    def __init__(self, features="adjacency", target="standard", calibration="none", seed=None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)

    def fit(self, archs, scores, *, space=None):
        Spy.log.append(("fit", self.seed, [a.id for a in archs]))
        return super().fit(archs, scores, space=space)

    def predict_mean_std(self, archs):
        Spy.log.append(("predict", self.seed, [a.id for a in archs]))
        return super().predict_mean_std(archs)

    def _fit(self, X, z):
        A = np.hstack([X, np.ones((len(X), 1))])
        self.w_ = np.linalg.lstsq(A, z, rcond=None)[0]

    def _predict(self, X):
        mean = np.hstack([X, np.ones((len(X), 1))]) @ self.w_
        return mean, np.ones(len(X))


@pytest.fixture(scope="module")
def task():
    return DigitsTable()


@pytest.fixture
def spied(task):
    Spy.log.clear()
    ds = evaluate(Spy(), task, n_train=[20, 5, 40], seeds=[3, 1], n_test=60, baselines=["#params"], progress=False)
    return ds, list(Spy.log)


def test_dataset_dims_coords_and_variables(spied, task):
    ds, _ = spied
    assert dict(ds.sizes) == {"predictor": 2, "n_train": 3, "seed": 2}
    assert list(ds["predictor"].values) == ["Spy()", "#params"]
    assert list(ds["n_train"].values) == [5, 20, 40]  # sorted
    assert list(ds["seed"].values) == [3, 1]  # as given
    assert list(ds["baseline"].values) == [False, True]
    assert set(VARIABLES) <= set(ds.data_vars)
    for v in VARIABLES:
        assert ds[v].dims == ("predictor", "n_train", "seed")
    spy = ds.sel(predictor="Spy()")
    assert np.isfinite(spy["kendall_tau"]).all() and (np.abs(spy["kendall_tau"]) <= 1).all()
    assert ((spy["coverage_68"] >= 0) & (spy["coverage_68"] <= 1)).all()
    assert (spy["fit_s"] > 0).all()
    assert ds.attrs["n_test"] == 60 and ds.attrs["top_k"] == 1 and ds.attrs["n_archs"] == 300
    assert ds.attrs["metric"] == "val_accuracy" and ds.attrs["mode"] == "max" and ds.attrs["task"] == task.name


def test_training_sets_are_nested_and_the_test_set_shared_and_disjoint(spied, task):
    _, log = spied
    by_seed: dict[int, dict[str, list[list[str]]]] = {}
    warm_up = [ids for kind, seed, ids in log if kind == "fit" and seed is None]
    assert len(warm_up) == 1  # one untimed fit before the recorded ones
    for kind, seed, ids in log:
        if seed is None:
            continue
        by_seed.setdefault(seed, {"fit": [], "predict": []})[kind].append(ids)
    assert set(by_seed) == {3, 1}  # each clone was seeded with its split's seed
    ids_all = np.array([a.id for a in task.space.enumerate()])
    for seed, calls in by_seed.items():
        fits, predicts = calls["fit"], calls["predict"]
        assert [len(f) for f in fits] == [5, 20, 40]
        assert fits[0] == fits[1][:5] and fits[1] == fits[2][:20]  # nested
        assert all(p == predicts[0] for p in predicts) and len(predicts[0]) == 60
        assert not set(predicts[0]) & set(fits[-1])  # held out
        perm = np.random.default_rng(seed).permutation(300)  # the documented split
        assert predicts[0] == list(ids_all[perm[:60]]) and fits[-1] == list(ids_all[perm[60:100]])
    assert by_seed[3]["predict"][0] != by_seed[1]["predict"][0]


def test_params_baseline_is_the_tau_of_params_against_value(spied, task):
    ds, log = spied
    gt = task.ground_truth()
    for seed in (3, 1):
        test_ids = next(ids for kind, s, ids in log if kind == "predict" and s == seed)
        sub = gt.sel(arch=test_ids)
        expected = stats.kendalltau(sub["params"].values, sub["value"].values).statistic
        got = ds["kendall_tau"].sel(predictor="#params", seed=seed).values
        np.testing.assert_allclose(got, expected)  # the same at every size: it does not train
        assert np.isnan(ds["coverage_68"].sel(predictor="#params", seed=seed)).all()


def test_noise_ceiling_is_the_seed_vs_seed_tau(spied, task):
    ds, _ = spied
    final = task.table.curves["val_accuracy"][:, :, -1]
    assert ds.attrs["noise_ceiling"] == pytest.approx(stats.kendalltau(final[:, 0], final[:, 1]).statistic)


def test_default_baselines_and_labels_of_several_predictors(task):
    ds = evaluate({"lin": Spy(), "lin2": Spy(features="graf")}, task, n_train=8, seeds=1, n_test=30, progress=False)
    assert list(ds["predictor"].values) == ["lin", "lin2", *BASELINES]
    assert list(ds["baseline"].values) == [False, False, True, True]
    assert np.isfinite(ds["kendall_tau"].sel(predictor="onehot-gbt")).all()
    assert "GradientBoosting" in str(ds["model"].sel(predictor="onehot-gbt").values)
    ds = evaluate([Spy(), Spy()], task, n_train=8, seeds=1, n_test=30, baselines=False, progress=False)
    assert list(ds["predictor"].values) == ["Spy()", "Spy() #2"]


def test_seeded_runs_repeat(task):
    kw = dict(n_train=[10, 30], seeds=2, n_test=50, baselines=False, progress=False)
    a = evaluate(RandomForest(n_estimators=5, calibration="none"), task, **kw)
    b = evaluate(RandomForest(n_estimators=5, calibration="none"), task, **kw)
    np.testing.assert_array_equal(a["kendall_tau"].values, b["kendall_tau"].values)


def test_nas_bench_graph_with_a_named_model():
    ds = evaluate("gp", NasBenchGraph("proteins"), n_train=[20], seeds=1, n_test=300, baselines=["#params"], progress=False)
    assert ds.attrs["n_archs"] == 2021 and "noise_ceiling" not in ds.attrs
    assert ds.attrs["metric"] == "val_roc_auc"
    assert np.isfinite(ds["kendall_tau"]).all() and ds.attrs["top_k"] == 3


def test_the_default_n_test_holds_out_2000_or_all_the_rest_of_a_small_table(task):
    # DigitsTable has 300 architectures: the default (2,000, as for NAS-Bench-Graph) used to refuse every call
    ds = evaluate(Spy(), task, n_train=[10, 40], seeds=1, baselines=False, progress=False)
    assert ds.attrs["n_test"] == 260
    ds = evaluate(Spy(), NasBenchGraph("proteins"), n_train=[10], seeds=1, baselines=False, progress=False)
    assert ds.attrs["n_test"] == 2000 and ds.attrs["n_archs"] == 2021


@pytest.mark.parametrize("bad", ["all", "", "2000"])
def test_an_n_test_string_other_than_auto_is_refused_naming_what_is_allowed(task, bad):
    with pytest.raises(InvalidParameterError, match=r'evaluate\(n_test=\.\.\.\) must be an int >= 2, "auto" or None; got'):
        evaluate(Spy(), task, n_train=[10], seeds=1, n_test=bad, baselines=False, progress=False)


def test_n_test_none_holds_out_the_rest(task):
    ds = evaluate(Spy(), task, n_train=np.array([10, 50]), seeds=np.array([4]), n_test=None, baselines=False,
                  progress=False)
    assert ds.attrs["n_test"] == 250 and list(ds["seed"].values) == [4]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(predictor="gpp"), InvalidParameterError, r"Unknown predictor .*'gpp'.*did you mean 'gp'"),
    (dict(predictor=3), InvalidParameterTypeError, "predictor name"),
    (dict(predictor=[]), InvalidParameterError, "at least one predictor"),
    (dict(predictor={"#params": Spy()}), InvalidParameterError, "baseline"),
    (dict(n_train=[1, 10]), InvalidParameterError, r"n_train=\.\.\.\) must be an int >= 2"),
    (dict(n_train=[280]), InvalidParameterError, r"n_test=50.*need 330 architectures.*at most 20"),
    (dict(n_test=1), InvalidParameterError, r"n_test=\.\.\.\) must be an int >= 2"),
    (dict(seeds=0), InvalidParameterError, r"seeds=\.\.\.\) must be an int >= 1"),
    (dict(seeds=[1, 1]), InvalidParameterError, "repeat"),
    (dict(k=0), InvalidParameterError, r"k=\.\.\.\)"),
    (dict(k=0.005), InvalidParameterError, r"evaluate\(k=0\.005\).*0\.25 of one, which rounds to none.*at least 0\.01"),
    (dict(baselines=["#param"]), InvalidParameterError, "did you mean '#params'"),
    (dict(progress="yes"), InvalidParameterError, "progress"),
    (dict(task=Digits()), NasbookError, r"Digits\).*needs a tabular task"),
    (dict(task="cora"), InvalidParameterTypeError, "task=...") ,
])
def test_errors_name_the_parameter(task, kwargs, error, match):
    args = dict(predictor=Spy(), task=task, n_train=[10], seeds=1, n_test=50, progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        evaluate(args.pop("predictor"), args.pop("task"), **args)


@pytest.mark.slow
def test_the_default_predictor_on_nas_bench_graph():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    ds = evaluate("auto", NasBenchGraph("cora"), n_train=[100], seeds=1, n_test=2000, progress=False)
    tau = ds["kendall_tau"].sel(n_train=100, seed=0)
    assert tau.sel(predictor="auto").item() > tau.sel(predictor="#params").item()
    assert (ds["fit_s"].sel(predictor="#params") == 0).all()


def test_a_fraction_k_is_the_nearest_count_halves_up_and_one_below_half_an_architecture_is_refused():
    assert [top_k_count(0.01, n) for n in (200, 250, 149, 150, 50)] == [2, 3, 1, 2, 1]  # not round()'s 2 at 250
    assert top_k_count(0.0125, 200) == 3 and top_k_count(5, 3) == 3 and top_k_count(1.0, 7) == 7
    y = np.arange(200.0)
    mean = y.copy()
    mean[197] = -1.0  # the third best is predicted worst; the best two are found
    assert top_k_overlap(y, mean, 0.01) == 1.0 and top_k_overlap(y, mean, 0.0125) == pytest.approx(2 / 3)
    with pytest.raises(InvalidParameterError, match=r"top_k_overlap\(k=0\.001\).*0\.2 of one.*at least 0\.0025"):
        top_k_overlap(y, mean, 0.001)  # it was the top 1 (0.5%) reported as the top 0.1%
    assert top_k_count(0.0025, 200) == 1


def test_top_k_overlap_counts_ties_at_the_kth_place_fractionally_whatever_the_order():
    import itertools

    # two truly best tie for the top 1; the prediction picks one of them: half of the true top 1 on average
    y, mean = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0])
    for order in itertools.permutations(range(4)):  # by position it was 0 or 1, depending on the order
        idx = list(order)
        assert top_k_overlap(y[idx], mean[idx], 1) == pytest.approx(0.5)
    # ties in both rankings at the k-th place: the expected overlap over independent random tie-breaks
    y = np.array([5.0, 4.0, 4.0, 4.0, 1.0, 0.0])  # top 2: arch 0, and one of 1, 2, 3 (1/3 each)
    mean = np.array([9.0, 3.0, 3.0, 8.0, 3.0, 0.0])  # top 2: archs 0 and 3
    assert top_k_overlap(y, mean, 2) == pytest.approx((1 + 1 / 3) / 2)
    rng = np.random.default_rng(100)
    for _ in range(20):
        idx = rng.permutation(6)
        assert top_k_overlap(y[idx], mean[idx], 2) == pytest.approx((1 + 1 / 3) / 2)
    mean = np.array([9.0, 3.0, 3.0, 3.0, 3.0, 0.0])  # predicted: arch 0 and one of 1..4 (1/4 each)
    assert top_k_overlap(y, mean, 2) == pytest.approx((1 + 3 * (1 / 3) * (1 / 4)) / 2)
    # the same for mode="min", and without ties it is the plain share
    assert top_k_overlap(-y, -mean, 2, mode="min") == pytest.approx((1 + 1 / 4) / 2)
    assert top_k_overlap(np.arange(10.0), np.arange(10.0)[::-1], 5) == 0.0
    assert top_k_overlap(np.arange(10.0), np.arange(10.0), 3) == 1.0
    # NaN ranks last, as before (a NaN prediction is never in the predicted top k)
    assert top_k_overlap(np.array([3.0, 2.0, 1.0]), np.array([np.nan, 2.0, 1.0]), 1) == 0.0
    with pytest.raises(InvalidParameterError, match=r"top_k_overlap\(k=0\) must count at least one of the 3"):
        top_k_overlap(np.array([3.0, 2.0, 1.0]), np.array([3.0, 2.0, 1.0]), 0)


@pytest.mark.parametrize("n_test", [None, 50])
@pytest.mark.parametrize("largest", [299, 3000])
def test_a_training_set_that_leaves_too_few_to_hold_out_says_to_lower_n_train(task, n_test, largest):
    # outside probe 2: evaluate(n_train=[3000], n_test=None) on the 300 architectures of DigitsTable said
    # "(n_test=-2700) ... Lower n_test to at most -2700"; with n_test=50 and n_train=[299], "at most 1", below its minimum 2
    with pytest.raises(InvalidParameterError) as info:
        evaluate(Spy(), task, n_train=[10, largest], seeds=1, n_test=n_test, baselines=False, progress=False)
    msg = str(info.value)
    assert f"n_train={largest}" in msg and "at most 298" in msg and "-" not in msg.split("n_train")[-1]
    assert "Lower n_test" not in msg
