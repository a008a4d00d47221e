"""Warm-start selection and the transfer prior, on hand-made tables of past trials."""

import numpy as np
import pandas as pd
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.knowledge import TransferPrior, select_warm_start
from nasbook.predictors import PriorPredictor, RandomForest, kendall_tau
from nasbook.space import PROTEINS_OPS, CellSpace, GraphSpace


def table(rows):
    """``rows``: (task, arch, value[, search[, mode]])."""
    out = []
    for r in rows:
        task, arch, value = r[:3]
        out.append({"task": task, "search": r[3] if len(r) > 3 else f"{task}-s", "space_id": arch.space_id,
                    "arch_id": arch.id, "arch": arch.to_dict(), "value": value, "mode": r[4] if len(r) > 4 else "max"})
    return pd.DataFrame(out)


@pytest.fixture
def space():
    return GraphSpace()


@pytest.fixture
def archs(space):
    rng = np.random.default_rng(0)
    out = {}
    while len(out) < 40:
        a = space.sample(rng)
        out[a.id] = a
    return list(out.values())


# -- selection ---------------------------------------------------------------------------------------
def test_ranks_are_aggregated_within_tasks_not_across_raw_scores(space, archs):
    a, b, c = archs[:3]
    # task x scores in [0.8, 0.9], task y in [0.1, 0.2]: a is best on both, b second, c last
    df = table([("x", a, 0.90), ("x", b, 0.85), ("x", c, 0.80), ("y", a, 0.20), ("y", b, 0.15), ("y", c, 0.10)])
    got = select_warm_start(df, space, 3, diversify=False)
    assert [g.id for g, _ in got] == [a.id, b.id, c.id]
    # a raw mean would let one task with large scores decide; quantiles do not: b tops y, a tops x
    df2 = table([("x", a, 0.90), ("x", b, 0.89), ("x", c, 0.10), ("y", b, 0.20), ("y", a, 0.11), ("y", c, 0.10),
                 ("z", b, 5.0), ("z", a, 4.0), ("z", c, 3.0)])
    assert select_warm_start(df2, space, 1, diversify=False)[0][0] == b


def test_min_mode_rows_are_turned_around(space, archs):
    a, b = archs[:2]
    df = table([("loss", a, 0.1, "s", "min"), ("loss", b, 0.9, "s", "min")])
    assert select_warm_start(df, space, 1, diversify=False)[0][0] == a
    assert select_warm_start(df, space, 1, diversify=False, mode="max")[0][0] == b


def test_task_weights_decide_between_disagreeing_tasks(space, archs):
    a, b = archs[:2]
    df = table([("x", a, 1.0), ("x", b, 0.0), ("y", a, 0.0), ("y", b, 1.0)])
    assert select_warm_start(df, space, 1, task_weights={"x": 1.0, "y": 0.1}, diversify=False)[0][0] == a
    assert select_warm_start(df, space, 1, task_weights={"x": 0.1, "y": 1.0}, diversify=False)[0][0] == b
    # a task left out of the weights does not count
    assert select_warm_start(df, space, 1, task_weights={"y": 1.0}, diversify=False)[0][0] == b


def test_one_task_at_the_top_does_not_beat_many_tasks_near_it(space, archs):
    a, b = archs[:2]
    rows = [("t0", a, 1.0)] + [(f"t{i}", b, 1.0) for i in range(1, 6)]
    rows += [(f"t{i}", x, 0.0) for i in range(6) for x in archs[2:6]]
    assert select_warm_start(table(rows), space, 1, diversify=False)[0][0] == b


def test_diversify_keeps_seeds_apart(space, archs):
    best = archs[0]
    nbrs = space.neighbours(best)[:5]
    rows = [("x", best, 1.0)] + [("x", n, 0.99 - 0.01 * i) for i, n in enumerate(nbrs)]
    rows += [("x", a, 0.5 - 0.01 * i) for i, a in enumerate(archs[1:10])]
    df = table(rows)
    plain = [a.id for a, _ in select_warm_start(df, space, 4, diversify=False)]
    assert plain == [best.id] + [n.id for n in nbrs[:3]]  # near-copies of the best
    div = [a for a, _ in select_warm_start(df, space, 4)]
    assert div[0] == best
    for i, a in enumerate(div):
        for b in div[i + 1:]:
            assert b.id not in {n.id for n in space.neighbours(a)}


def test_provenance_names_tasks_searches_and_ranks(space, archs):
    a, b = archs[:2]
    df = table([("x", a, 0.9, "evo-x"), ("x", b, 0.8, "evo-x"), ("y", a, 0.3, "rnd-y"), ("y", a, 0.2, "evo-y"),
                ("y", b, 0.1, "rnd-y")])
    (arch, prov), _ = select_warm_start(df, space, 2, diversify=False)
    assert arch == a and prov["rank"] == 0 and prov["n_tasks"] == 2
    assert prov["tasks"]["x"]["searches"] == ["evo-x"]
    assert prov["tasks"]["y"]["searches"] == ["evo-y", "rnd-y"]  # both recorded it; its best score counts
    assert prov["tasks"]["y"]["score"] == pytest.approx(0.3)
    assert prov["tasks"]["x"]["quantile"] == pytest.approx(0.75)  # (2 - 1/2) / 2
    assert 0.5 < prov["score"] < 0.75  # shrunk towards 1/2


def test_failed_trials_are_left_out_and_n_may_exceed_what_exists(space, archs):
    a, b = archs[:2]
    df = table([("x", a, float("nan")), ("x", b, 0.5)])
    got = select_warm_start(df, space, 10)
    assert [g for g, _ in got] == [b]


def test_rows_of_a_subspace_are_translated_and_others_dropped():
    full, small = GraphSpace(), GraphSpace(ops=PROTEINS_OPS)
    rng = np.random.default_rng(1)
    in_small = small.sample(rng)
    only_full = next(a for a in (full.sample(rng) for _ in range(100)) if "gat" in a["ops"])
    df = table([("x", full.from_dict(in_small.to_dict()), 0.9), ("x", only_full, 1.0)])
    got = select_warm_start(df, small, 5)
    assert [a for a, _ in got] == [in_small] and got[0][0].space_id == small.space_id


# -- bad input -------------------------------------------------------------------------------------------
def test_bad_input_is_refused_clearly(space, archs):
    df = table([("x", archs[0], 1.0), ("x", archs[1], 0.0)])
    with pytest.raises(InvalidParameterTypeError, match="DataFrame"):
        select_warm_start(df.to_dict("records"), space, 2)
    with pytest.raises(InvalidParameterError, match="lacks the columns"):
        select_warm_start(df.drop(columns=["arch"]), space, 2)
    with pytest.raises(InvalidParameterError, match="n"):
        select_warm_start(df, space, 0)
    with pytest.raises(InvalidParameterError, match="weight of task 'x'"):
        select_warm_start(df, space, 2, task_weights={"x": -1})
    with pytest.raises(InvalidParameterError, match="no past task a positive weight"):
        select_warm_start(df, space, 2, task_weights={"other": 1.0})
    with pytest.raises(InvalidParameterError, match="mode"):
        select_warm_start(df, space, 2, mode="up")
    cells = CellSpace()
    with pytest.raises(InvalidParameterError, match="same space"):
        select_warm_start(df, cells, 2)
    with pytest.raises(InvalidParameterError, match="same space"):
        TransferPrior(df, cells)


# -- the transfer prior ------------------------------------------------------------------------------
def _family(space, n_tasks, n_per_task, related, seed=0):
    """Tasks whose scores are linear in the graph features: related tasks share most of one weight vector."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(space.encoding_size("graf"))

    def weights():
        own = rng.standard_normal(len(base))
        return 0.9 * base + 0.3 * own if related else own

    def score(w, archs):
        return space.encode_many(archs, "graf") @ w

    rows = []
    for t in range(n_tasks):
        w = weights()
        archs = [space.sample(rng) for _ in range(n_per_task)]
        rows += [(f"t{t}", a, float(v)) for a, v in zip(archs, score(w, archs))]
    target = weights() if related else rng.standard_normal(len(base))
    return table(rows), (lambda archs: score(target, archs)), rng


@pytest.mark.parametrize("related", [True, False])
def test_the_prior_helps_when_informative_and_does_no_harm_otherwise(related):
    space = GraphSpace(ops=PROTEINS_OPS)
    df, truth, rng = _family(space, 4, 80, related)
    prior = TransferPrior(df, space, model=RandomForest(n_estimators=30, calibration="none"), seed=0)
    test = space.enumerate()[:1500]
    y_test = truth(test)
    cold, warm = [], []
    for seed in range(3):
        train = [space.sample(rng) for _ in range(20)]
        y = truth(train)
        c = RandomForest(n_estimators=50, seed=seed).fit(train, y, space=space)
        p = PriorPredictor(prior, model=RandomForest(n_estimators=50), seed=seed).fit(train, y, space=space)
        cold.append(kendall_tau(y_test, c.predict_mean_std(test)[0]))
        warm.append(kendall_tau(y_test, p.predict_mean_std(test)[0]))
    if related:
        assert np.mean(warm) > np.mean(cold) + 0.1, (warm, cold)
        assert np.mean(warm) > 0.5
    else:
        assert np.mean(warm) > np.mean(cold) - 0.08, (warm, cold)
    assert "TransferPrior" in repr(prior) and "4 past tasks" in repr(prior)


def test_prior_predictor_refuses_a_missing_or_broken_prior(space, archs):
    with pytest.raises(InvalidParameterTypeError, match="prior"):
        PriorPredictor().fit(archs[:5], [1, 2, 3, 4, 5], space=space)
    with pytest.raises(InvalidParameterError, match="3 values for 5"):
        PriorPredictor(lambda a: [1, 2, 3]).fit(archs[:5], [1, 2, 3, 4, 5], space=space)
    with pytest.raises(InvalidParameterError, match="not finite"):
        PriorPredictor(lambda a: [float("nan")] * len(a)).fit(archs[:5], [1, 2, 3, 4, 5], space=space)
    with pytest.raises(InvalidParameterError, match="how"):
        PriorPredictor(lambda a: [0.0] * len(a), how="sum").fit(archs[:5], [1, 2, 3, 4, 5], space=space)


def test_no_past_trials_of_the_space_is_a_typed_error_with_the_reason_apart(space, archs):
    """A caller that says the refusal of its own parameter (``Search(kb=..., warm_start=...)``) takes ``reason``
    from the exception, not by cutting a known prefix off its text; a pickled copy still reads."""
    import pickle

    from nasbook.knowledge import NoPastTrialsError

    other = CellSpace()
    df = table([("x", other.sample(np.random.default_rng(1)), 0.5)])
    with pytest.raises(NoPastTrialsError) as info:
        select_warm_start(df, space, 3)
    err = info.value
    assert isinstance(err, InvalidParameterError)
    assert str(err).startswith("select_warm_start(trials=...): ") and str(err).endswith(err.reason)
    assert err.reason.startswith("none of the 1 past trials") and "select_warm_start" not in err.reason
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is NoPastTrialsError and str(again) == str(err)
