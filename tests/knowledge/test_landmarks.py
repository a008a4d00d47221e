"""Landmarks for a transfer prior (``TransferPrior.landmarks`` / ``knowledge.select_landmarks``): the
architectures to measure first on a new task, chosen to cover what the past tasks predict."""

import numpy as np
import pandas as pd
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.knowledge import TransferPrior, select_landmarks
from nasbook.knowledge._landmarks import BYS, PICKS
from nasbook.predictors import RandomForest
from nasbook.space import PROTEINS_OPS, GraphSpace


def _table(space, n_tasks=3, n_per_task=60, seed=0):
    """Past tasks whose scores are different linear functions of the graph features."""
    rng = np.random.default_rng(seed)
    d = space.encode_many([space.sample(rng)], "graf").shape[1]
    rows = []
    for t in range(n_tasks):
        w = rng.standard_normal(d)
        archs = list({a.id: a for a in (space.sample(rng) for _ in range(n_per_task))}.values())
        for a, v in zip(archs, space.encode_many(archs, "graf") @ w):
            rows.append({"task": f"t{t}", "search": f"t{t}-s", "space_id": space.space_id, "arch_id": a.id,
                         "arch": a.to_dict(), "value": float(v), "mode": "max"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def space():
    return GraphSpace(ops=PROTEINS_OPS)


@pytest.fixture(scope="module")
def prior(space):
    return TransferPrior(_table(space), space, model=RandomForest(n_estimators=20, calibration="none"), seed=0)


@pytest.fixture(scope="module")
def pool(space):
    rng = np.random.default_rng(1)
    return list({a.id: a for a in (space.sample(rng) for _ in range(400))}.values())


@pytest.mark.parametrize("pick", PICKS)
@pytest.mark.parametrize("by", BYS)
def test_landmarks_are_n_distinct_architectures_of_the_space(prior, space, pool, by, pick):
    got = select_landmarks(prior, 12, by=by, candidates=pool, seed=3, pick=pick)
    assert [a.id for a in got] == [a.id for a in select_landmarks(prior, 12, by=by, candidates=pool, seed=3, pick=pick)]
    assert len(got) == 12
    assert len({a.id for a in got}) == 12
    ids = {a.id for a in pool}
    assert all(a.space_id == space.space_id and a.id in ids for a in got)
    assert all(space.from_dict(a.to_dict()).id == a.id for a in got)


def test_default_candidates_are_the_whole_space(prior, space):
    got = prior.landmarks(8, seed=0)
    everything = {a.id for a in space.enumerate()}
    assert len({a.id for a in got}) == 8 and {a.id for a in got} <= everything


def test_deterministic_for_a_seed_and_the_seed_matters(prior, pool):
    a = [x.id for x in select_landmarks(prior, 10, candidates=pool, seed=7)]
    assert a == [x.id for x in prior.landmarks(10, candidates=pool, seed=7)]
    others = {tuple(x.id for x in prior.landmarks(10, candidates=pool, seed=s)) for s in range(8, 12)}
    assert any(o != tuple(a) for o in others)


def _coverage(X, rows):
    """Mean squared distance from each point to its nearest chosen one."""
    return float(np.min([((X - X[r]) ** 2).sum(axis=1) for r in rows], axis=0).mean())


def test_predictions_cover_what_the_past_tasks_say_better_than_random(prior, pool):
    P = np.stack(list(prior.predict_tasks(pool).values()), axis=1)
    P = (P - P.mean(0)) / P.std(0)
    row = {a.id: i for i, a in enumerate(pool)}
    rng = np.random.default_rng(0)
    for seed in range(3):
        chosen = [row[a.id] for a in prior.landmarks(10, by="predictions", candidates=pool, seed=seed)]
        rand = [_coverage(P, rng.choice(len(pool), 10, replace=False)) for _ in range(20)]
        assert _coverage(P, chosen) < np.quantile(rand, 0.1), (_coverage(P, chosen), sorted(rand)[:3])


def test_bad_input_names_the_parameter(prior, space, pool):
    with pytest.raises(InvalidParameterError, match=r"n=\.\.\."):
        prior.landmarks(0, candidates=pool)
    with pytest.raises(InvalidParameterError, match=r"n=\.\.\..*only 5"):
        prior.landmarks(6, candidates=pool[:5])
    with pytest.raises(InvalidParameterError, match=r"by=\.\.\."):
        prior.landmarks(5, by="entropy", candidates=pool)
    foreign = GraphSpace().sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"candidates=\.\.\..*prior's space"):
        prior.landmarks(5, candidates=[*pool[:10], foreign])
    with pytest.raises(InvalidParameterTypeError, match=r"candidates=\.\.\."):
        prior.landmarks(5, candidates="all")
    with pytest.raises(InvalidParameterTypeError, match=r"prior=\.\.\..*predict_tasks"):
        select_landmarks(lambda archs: [0.0] * len(archs), 5, space=space)
    with pytest.raises(InvalidParameterError, match=r"pick=\.\.\."):
        select_landmarks(prior, 5, candidates=pool, pick="medoid")
    with pytest.raises(InvalidParameterError, match=r"seed=\.\.\."):
        prior.landmarks(5, candidates=pool, seed=-1)


def test_an_empty_base_has_no_prior_to_choose_from(space):
    empty = _table(space).iloc[:0]
    with pytest.raises(InvalidParameterError, match=r"TransferPrior\(trials=\.\.\.\): none of the 0 past trials"):
        TransferPrior(empty, space)
