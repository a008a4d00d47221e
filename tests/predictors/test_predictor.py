"""nasbook.Predictor and the models behind it: the scikit-learn-style API, what they learn, the
calibration of their spread, and clear errors for bad input."""

from __future__ import annotations

import math
from importlib.util import find_spec

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError, NotFittedError
from nasbook.predictors import (
    BasePredictor,
    Ensemble,
    ExtraTrees,
    GaussianProcess,
    GradientBoosting,
    Predictor,
    RandomForest,
    available_predictors,
    kendall_tau,
)
from nasbook.space import CellSpace, ChainSpace, GraphSpace

SKLEARN_MODELS = ("gp", "random-forest", "extra-trees", "gbt")
FAST = {"n_estimators": 30}


@pytest.fixture(scope="module")
def space():
    return GraphSpace()


@pytest.fixture(scope="module")
def archs(space):
    return space.enumerate()[::37][:600]


def gcn_score(arch):
    """A score the graph features determine: GCN nodes count, fully connected nodes cost."""
    ops = list(arch["ops"])
    return ops.count("gcn") - 0.5 * ops.count("fc") + 0.1 * len(set(arch["link"]))


def cheap(name, **kw):
    if name in ("random-forest", "extra-trees"):
        kw.setdefault("n_estimators", 30)
    if name == "gbt":
        kw.setdefault("max_iter", 40)
    return available_predictors()[name](seed=0, **kw)


# -- API --------------------------------------------------------------------------------------
def test_fit_returns_self_and_predict_gives_mean_and_std_over_arch(archs):
    y = [gcn_score(a) for a in archs[:60]]
    p = Predictor(model=cheap("random-forest"), seed=0)
    assert p.fit(archs[:60], y) is p
    ds = p.predict(archs[60:70])
    assert set(ds.data_vars) == {"mean", "std"}
    assert ds["mean"].dims == ("arch",) and list(ds["arch"].values) == [a.id for a in archs[60:70]]
    assert np.all(ds["std"].values > 0)
    assert p.n_train_ == 60 and p.features_ == ("graf",) and p.n_features_in_ == p.space_.encoding_size("graf")
    assert p.feature_versions_ == (p.space_.encoding_version("graf"),)


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_each_model_learns_a_function_of_the_graph(archs, name):
    y = np.array([gcn_score(a) for a in archs])
    p = cheap(name).fit(archs[:150], y[:150])
    assert p.score(archs[150:], y[150:]) > 0.7
    assert set(p.scores_) == set(nasbook.predictors.METRICS)


def test_mlp_ensemble_learns_too(archs):
    pytest.importorskip("torch")
    y = np.array([gcn_score(a) for a in archs])
    p = available_predictors()["mlp"](epochs=150, seed=0).fit(archs[:150], y[:150])
    assert p.score(archs[150:], y[150:]) > 0.7


def test_same_seed_same_predictions(archs):
    y = [gcn_score(a) for a in archs[:40]]
    a = Predictor(seed=3).fit(archs[:40], y).predict_mean_std(archs[40:60])
    b = Predictor(seed=3).fit(archs[:40], y).predict_mean_std(archs[40:60])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_default_ensemble_beats_chance_on_a_real_table():
    from nasbook.tasks import NasBenchGraph

    task = NasBenchGraph("photo")
    archs = task.space.enumerate()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(archs))
    tr, te = idx[:100], idx[100:1100]
    y = task.table.valid
    p = Predictor(seed=0).fit([archs[i] for i in tr], y[tr])
    tau = p.score([archs[i] for i in te], y[te])
    assert tau > 0.35  # a random ranking scores 0; one-hot trees reach about 0.4 here
    assert 0.45 < p.scores_["coverage_68"] < 0.9


def test_rank_target_maps_back_monotonically_into_the_scores_range(archs):
    y = np.array([gcn_score(a) for a in archs[:80]])
    y[0] = -100.0  # an outlier: a diverged network
    p = GaussianProcess(seed=0).fit(archs[:80], y)
    z = np.linspace(-4, 4, 200)
    back = p._inverse(z)
    assert np.all(np.diff(back) >= 0)
    mean, _ = p.predict_mean_std(archs[80:200])
    assert mean.min() > -100.0 and mean.max() < y.max() + 1.0
    standard = GaussianProcess(target="standard", seed=0).fit(archs[:80], y)
    assert standard.score(archs[80:200], [gcn_score(a) for a in archs[80:200]]) < p.score(archs[80:200], [gcn_score(a) for a in archs[80:200]])


@pytest.mark.parametrize("target", ["rank", "standard"])
def test_scores_near_the_float_limit_fit_without_overflow(archs, target):
    # finite scores a user may tell (a loss of 1e300, a sentinel of 1e308) must not overflow the
    # target's mean and spread into inf/NaN: predictions stay finite and keep the ranking
    y = np.array([gcn_score(a) for a in archs[:60]])
    big = np.where(y > np.median(y), 1e308, -1e300) + y * 1e290
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        p = RandomForest(n_estimators=30, target=target, seed=0).fit(archs[:60], big)
        mean, std = p.predict_mean_std(archs[60:160])
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)
    truth = np.array([gcn_score(a) for a in archs[60:160]]) > np.median(y)
    def mid(v):
        return np.sort(v)[len(v) // 2]  # a median that adds nothing, so cannot overflow itself

    assert mid(mean[truth]) > mid(mean[~truth])  # the huge half is predicted above the other
    back = p._inverse(np.linspace(-8, 8, 50))
    assert np.all(np.isfinite(back)) and np.all(np.diff(back) >= 0)


def test_calibrated_intervals_cover_about_their_level():
    rng = np.random.default_rng(1)
    space = GraphSpace()
    archs = space.enumerate()[::13][:1000]
    y = np.array([gcn_score(a) for a in archs]) + rng.normal(0, 0.5, len(archs))
    p = RandomForest(n_estimators=50, seed=0).fit(archs[:200], y[:200])
    p.score(archs[200:], y[200:])
    assert 0.58 < p.scores_["coverage_68"] < 0.8, p.scores_
    raw = RandomForest(n_estimators=50, calibration="none", seed=0).fit(archs[:200], y[:200])
    raw.score(archs[200:], y[200:])
    assert abs(p.scores_["coverage_68"] - 0.68) <= abs(raw.scores_["coverage_68"] - 0.68) + 0.02


def test_ensemble_is_the_mixture_of_its_members(archs):
    y = np.array([gcn_score(a) for a in archs[:50]])
    members = [cheap("random-forest"), cheap("gbt")]
    ens = Ensemble(members, calibration="none", seed=0).fit(archs[:50], y)
    X = ens._encode(archs[50:80])
    (m1, s1), (m2, s2) = (m._predict(X) for m in ens.members_)
    mu, sd = ens._predict(X)
    np.testing.assert_allclose(mu, (m1 + m2) / 2)
    np.testing.assert_allclose(sd**2, (s1**2 + s2**2) / 2 + ((m1 - m2) / 2) ** 2)


def test_ensemble_members_with_their_own_features_see_those_columns(archs, space):
    y = np.array([gcn_score(a) for a in archs[:50]])
    ens = Ensemble([GaussianProcess(features="adjacency"), cheap("extra-trees")], calibration="none", seed=0)
    ens.fit(archs[:50], y)
    assert ens.features_ == ("graf", "adjacency")
    n_graf, n_adj = space.encoding_size("graf"), space.encoding_size("adjacency")
    assert ens.n_features_in_ == n_graf + n_adj
    gp, trees = ens.members_
    assert gp._center.shape == (n_adj,) and trees.model_.n_features_in_ == n_graf
    X = ens._encode(archs[50:80])
    np.testing.assert_allclose(gp._predict(X[:, n_graf:])[0], gp._predict(space.encode_many(archs[50:80], "adjacency"))[0])
    mu, _ = ens._predict(X)
    np.testing.assert_allclose(mu, (gp._predict(X[:, n_graf:])[0] + trees._predict(X[:, :n_graf])[0]) / 2)


def test_default_model_has_a_second_view_and_drops_identical_members(archs):
    y = np.array([gcn_score(a) for a in archs[:40]])
    p = Predictor(seed=0, calibration="none").fit(archs[:40], y)
    assert p.features_ == ("graf", "adjacency")
    assert [type(m).__name__ for m in p.model_.members_] == ["GaussianProcess", "GaussianProcess", "ExtraTrees",
                                                              "GradientBoosting"]
    # on the one-hot adjacency alone both Gaussian processes would be the same model: fitted once
    q = Predictor(features="adjacency", seed=0, calibration="none").fit(archs[:40], y)
    assert q.features_ == ("adjacency",)
    assert [type(m).__name__ for m in q.model_.members_] == ["GaussianProcess", "ExtraTrees", "GradientBoosting"]


def test_fit_search_uses_completed_trials():
    from nasbook.tasks import NasBenchGraph

    search = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=25, seed=0, storage=":memory:")
    search.run(progress="none")
    p = Predictor(model=cheap("extra-trees")).fit_search(search)
    assert p.n_train_ == sum(t.state is nasbook.TrialState.COMPLETE for t in search.trials)
    assert p.space_ == search.space
    out = p.predict([t.arch for t in search.trials[:3]])  # in the search's metric's units, and it says which
    assert out.attrs["metric"] == "val_accuracy" and out["mean"].attrs["long_name"] == "predicted val_accuracy"
    p.fit([t.arch for t in search.trials], [float(t.value) for t in search.trials])  # unnamed scores: no metric
    assert "metric" not in p.predict([search.trials[0].arch, search.trials[1].arch]).attrs


def test_fit_search_without_a_seed_is_seeded_by_the_search_and_repeats():
    # Predictor() has seed=None (scikit-learn's convention): the README's Predictor().fit_search(search) gave
    # other predictions on each run; it now fits with the search's seed, the user's parameter left as given
    from nasbook.tasks import NasBenchGraph

    search = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=25, seed=100, storage=":memory:")
    search.run(progress="none")
    seen = {t.arch.id for t in search.trials}
    archs = [a for a in search.space.enumerate()[:60] if a.id not in seen][:5]  # not trained on

    def unseeded(seed=None):  # the README's Predictor(), with a cheaper model: both unseeded by default
        return Predictor(model=ExtraTrees(n_estimators=30), seed=seed)

    first, second = unseeded().fit_search(search), unseeded().fit_search(search)
    a, b = first.predict(archs), second.predict(archs)
    np.testing.assert_array_equal(a["mean"].values, b["mean"].values)
    np.testing.assert_array_equal(a["std"].values, b["std"].values)
    assert first.seed is None and first.get_params()["seed"] is None and first.seed_ == 100
    done = [t for t in search.trials if t.state is nasbook.TrialState.COMPLETE]
    same = unseeded(100).fit([t.arch for t in done], [t.value for t in done]).predict(archs)
    np.testing.assert_array_equal(a["mean"].values, same["mean"].values)  # exactly the search's seed
    own = unseeded(7).fit_search(search)  # a predictor's own seed wins
    assert own.seed == 7 and own.seed_ == 7


def test_fit_search_of_a_multi_fidelity_search_learns_final_values_only():
    # ASHA's rung-1 values (Digits table: Spearman 0.27 with the final ranking) are not an
    # architecture's quality, and a promoted architecture would come twice with two scores
    from nasbook.strategies import ASHA
    from nasbook.tasks import DigitsTable

    search = nasbook.Search(DigitsTable(), strategy=ASHA(max_epochs=9), budget={"epochs": 150}, seed=0, storage=":memory:")
    search.run(progress="none")
    done = [t for t in search.trials if t.state is nasbook.TrialState.COMPLETE]
    final = [t for t in done if t.epochs == 9]
    assert 2 <= len(final) < len(done)
    p = Predictor(model=cheap("extra-trees")).fit_search(search)
    assert p.n_train_ == len(final)
    with pytest.raises(InvalidParameterError, match=r"has 1 at its most epochs, 9 \(\d+ completed at any epochs\)"):
        Predictor().fit_search(_OneFinal(search, final[0]))


class _OneFinal:
    """A search's view with a single trial at the top epochs."""

    def __init__(self, search, keep):
        self.space, self.name = search.space, search.name
        self.trials = [t for t in search.trials if t.epochs != keep.epochs or t is keep]


@pytest.mark.parametrize("space", [CellSpace(), ChainSpace(kind="mlp")], ids=["cell", "chain"])
def test_other_spaces_have_graph_features(space):
    rng = np.random.default_rng(0)
    archs = list({a.id: a for a in (space.sample(rng) for _ in range(80))}.values())
    y = rng.normal(size=len(archs))
    p = cheap("extra-trees").fit(archs, y)
    assert p.features_ == ("graf",)
    assert p.predict(archs[:5])["mean"].shape == (5,)


def test_repr_shows_fit_and_last_score_with_a_scatter(archs):
    from nasbook.display import repr_mimebundle

    p = Predictor(model=cheap("random-forest"))
    assert "not fitted" in repr_mimebundle(p)["text/plain"]
    y = [gcn_score(a) for a in archs]
    p.fit(archs[:50], y[:50]).score(archs[50:150], y[50:150])
    bundle = repr_mimebundle(p)
    assert "trained on          50 architectures" in bundle["text/plain"]
    assert "Kendall tau" in bundle["text/plain"] and "Predicted vs true" in bundle["text/plain"]
    assert "<svg" in bundle["text/html"] and bundle["text/html"].count("<circle") == 100


def test_the_predicted_vs_true_thumbnail_has_the_diagonal_and_its_axis_ends(archs):
    # before: no y = x line and no axis values, so the fit could not be judged from the thumbnail
    import re
    import xml.etree.ElementTree as ET

    from nasbook.display import repr_mimebundle

    y = np.array([gcn_score(a) for a in archs])
    p = Predictor(model=cheap("random-forest")).fit(archs[:50], y[:50])
    p.score(archs[50:150], y[50:150])
    html = repr_mimebundle(p)["text/html"]
    svg = ET.fromstring(re.search(r"<svg[^>]*class=\"nb-scatter\".*?</svg>", html, re.S).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    rect, line = svg.find(f"{ns}rect"), svg.find(f"{ns}line[@class='nb-diagonal']")
    x0, y0 = float(rect.get("x")), float(rect.get("y"))
    side = float(rect.get("width"))
    # y = x runs from the frame's lower-left corner to its upper-right one: both axes share one range
    assert [float(line.get(k)) for k in ("x1", "y1", "x2", "y2")] == [x0, y0 + side, x0 + side, y0]
    ends = [t.text for t in svg.findall(f"{ns}text[@class='nb-tick']")]
    mean = p.predict(archs[50:150])["mean"].values
    lo, hi = min(mean.min(), y[50:150].min()), max(mean.max(), y[50:150].max())
    assert ends == [f"{lo:.3g}", f"{hi:.3g}"] * 2  # x min, x max, y min, y max


def test_params_clone_and_registry():
    p = Predictor(model="gp", seed=1)
    assert p.get_params() == {"model": "gp", "features": "auto", "target": "rank", "calibration": "cv", "seed": 1}
    assert repr(p.clone()) == repr(p)
    assert set(SKLEARN_MODELS) | {"mlp", "ensemble"} <= set(available_predictors())
    assert isinstance(Predictor(model=RandomForest()), BasePredictor)


def test_kendall_tau_of_a_constant_is_nan():
    assert math.isnan(kendall_tau(np.ones(5), np.arange(5.0)))


# -- bad input: clear errors naming the parameter, nothing learned is lost --------------------------
@pytest.mark.parametrize("n", [0, 1])
def test_fit_on_fewer_than_two(archs, n):
    with pytest.raises(InvalidParameterError, match=r"fit\(archs=\.\.\.\) needs at least 2"):
        Predictor().fit(archs[:n], [1.0] * n, space=GraphSpace())


def test_lengths_differ(archs):
    with pytest.raises(InvalidParameterError, match=r"same length; got 5 architectures and 4 scores"):
        Predictor().fit(archs[:5], [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_scores_not_finite(archs, bad):
    with pytest.raises(InvalidParameterError, match=r"scores=\.\.\.\) must be finite; scores\[2\]"):
        Predictor().fit(archs[:5], [1.0, 2.0, bad, 4.0, 5.0])


def test_scores_not_numbers(archs):
    with pytest.raises(InvalidParameterTypeError, match=r"scores=\.\.\.\) must be a sequence of numbers"):
        Predictor().fit(archs[:3], ["a", "b", "c"])


def test_archs_from_another_space(archs):
    other = CellSpace().sample(np.random.default_rng(0))
    with pytest.raises(InvalidArchitectureError, match=r"archs=\.\.\.\): item 2 .* belongs to space"):
        Predictor().fit([archs[0], archs[1], other], [1.0, 2.0, 3.0])
    p = Predictor(model=cheap("random-forest")).fit(archs[:20], [gcn_score(a) for a in archs[:20]])
    with pytest.raises(InvalidArchitectureError, match=r"predict\(archs=\.\.\.\)"):
        p.predict([other])
    assert p.n_train_ == 20  # the fitted model is untouched


def test_not_architectures(archs):
    with pytest.raises(InvalidParameterTypeError, match=r"must hold Architectures .* item 1 is 'x'"):
        Predictor().fit([archs[0], "x"], [1.0, 2.0])
    with pytest.raises(InvalidParameterTypeError, match=r"must be a list of Architectures"):
        Predictor().fit(archs[0], [1.0])


@pytest.mark.parametrize("method", ["predict", "predict_mean_std", "score"])
def test_use_before_fit(archs, method):
    args = (archs[:3], [1.0, 2.0, 3.0]) if method == "score" else (archs[:3],)
    with pytest.raises(NotFittedError, match=r"not fitted yet: call \.fit\(archs, scores\)"):
        getattr(Predictor(), method)(*args)


def test_unknown_model_name(archs):
    # the error names the parameter as the user wrote it, and the default it left
    with pytest.raises(InvalidParameterError, match=r"Unknown Predictor\(model=\.\.\.\) 'randomforest'.*did you mean "
                                                    r"'random-forest'.*Predictor\(model='auto'\) is the default"):
        Predictor(model="randomforest").fit(archs[:5], [1, 2, 3, 4, 5])
    with pytest.raises(InvalidParameterError, match=r"Unknown Ensemble\(members=\[\.\.\.\]\) item 1 'gpp'"):
        Ensemble(["gp", "gpp"]).fit(archs[:5], [1, 2, 3, 4, 5])


def test_space_without_the_requested_features(archs):
    with pytest.raises(InvalidParameterError, match=r"features=\.\.\.\) 'onehot'. Available: 'adjacency', 'graf', 'path'"):
        Predictor(features="onehot").fit(archs[:5], [1, 2, 3, 4, 5])


def test_a_changed_encoding_is_refused(archs, monkeypatch):
    p = Predictor(model=cheap("random-forest")).fit(archs[:20], [gcn_score(a) for a in archs[:20]])
    monkeypatch.setattr(type(p.space_), "encoding_version", lambda self, kind: f"{kind}/99")
    with pytest.raises(InvalidParameterError, match=r"fitted on encodings \['graf/1:.*now encodes them as \['graf/99'\]"):
        p.predict(archs[:3])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"calibration": "loo"}, r"calibration=\.\.\.\)"),
        ({"target": "log"}, r"target=\.\.\.\)"),
        ({"features": 3}, r"features=\.\.\.\) must be 'auto', an encoding name"),
        ({"seed": -1}, r"seed"),
    ],
)
def test_bad_parameters_are_named(archs, kwargs, match):
    with pytest.raises((InvalidParameterError, InvalidParameterTypeError), match=match):
        Predictor(**kwargs).fit(archs[:5], [1, 2, 3, 4, 5])


def test_misspelt_keyword_suggests():
    with pytest.raises(InvalidParameterTypeError, match="calibration"):
        Predictor(calibrate="cv")


def test_unknown_score_metric(archs):
    p = Predictor(model=cheap("random-forest")).fit(archs[:20], [gcn_score(a) for a in archs[:20]])
    with pytest.raises(InvalidParameterError, match=r"score\(metric=\.\.\.\)"):
        p.score(archs[:5], [1, 2, 3, 4, 5], metric="r2")


@pytest.mark.skipif(find_spec("torch") is None, reason="the MLP ensemble needs torch")
def test_mlp_bad_parameter():
    with pytest.raises(InvalidParameterError, match=r"MLPEnsemble\(lr=\.\.\.\) must be a positive number"):
        available_predictors()["mlp"](lr=0).fit(GraphSpace().enumerate()[:5], [1, 2, 3, 4, 5])


def test_gbt_and_extra_trees_parameters_checked():
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        GradientBoosting(learning_rate=2.0)._validate_params()
    with pytest.raises(InvalidParameterError, match="max_features"):
        ExtraTrees(max_features=3.0)._validate_params()


def test_a_predictor_whose_init_skips_super_says_to_call_it(archs):
    from nasbook.predictors import BasePredictor

    class NoSuper(BasePredictor):
        def __init__(self, k=3):
            self.k = k

        def _fit(self, X, z):
            self.mean_ = float(z.mean())

        def _predict(self, X):
            return np.full(len(X), self.mean_), np.ones(len(X))

    with pytest.raises(InvalidParameterTypeError, match=r"NoSuper.__init__ did not call super\(\).__init__.*"
                                                        r"\['features', 'target', 'calibration', 'seed'\]"):
        NoSuper().fit(archs[:10], np.arange(10.0))
