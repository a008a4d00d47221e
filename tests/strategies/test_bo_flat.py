"""BO with a flat acquisition (a surrogate that tells the candidates apart not at all): a seeded random pick
among them, not the first candidate listed; deterministic, and exact on resume."""

from __future__ import annotations

import numpy as np
import pytest
from bo_helpers import cut_and_resume

from nasbook.predictors import BasePredictor, register, unregister
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BO
from nasbook.strategies._bo_acquisition import best_candidate
from nasbook.testing._contract import _drive
from nasbook.testing._toy import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


class FlatSurrogate(BasePredictor):
    """Predicts the same mean and spread for every architecture, whatever it learned from."""

    def _fit(self, X, z):
        pass

    def _predict(self, X):
        return np.zeros(len(X)), np.ones(len(X))


@pytest.fixture
def flat():
    register(FlatSurrogate)
    yield FlatSurrogate
    unregister(FlatSurrogate)


def _first_unseen_each_ask(strategy, n, seed):
    """Drive ``n`` asks; for each, whether it proposed the first unseen architecture in enumeration order."""
    task = ToyTask(SPACE, seed=3)
    order = [a.id for a in SPACE.enumerate()]
    ids = [a for a, _ in _drive(strategy, SPACE, task, n, seed=seed)]
    firsts = []
    for i, arch in enumerate(ids):
        seen = set(ids[:i])
        firsts.append(arch == next(a for a in order if a not in seen))
    return ids, firsts


@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
def test_a_flat_acquisition_picks_at_random_among_the_candidates(flat, acquisition):
    ids, firsts = _first_unseen_each_ask(BO(predictor=flat(), acquisition=acquisition, n_initial=3), 12, seed=0)
    assert not any(firsts[3:])  # argmax of a flat acquisition would take the first unseen candidate every time
    again, _ = _first_unseen_each_ask(BO(predictor=flat(), acquisition=acquisition, n_initial=3), 12, seed=0)
    other, _ = _first_unseen_each_ask(BO(predictor=flat(), acquisition=acquisition, n_initial=3), 12, seed=1)
    assert again == ids and other[3:] != ids[3:]


def test_a_flat_acquisition_resumes_exactly(tmp_path, flat):
    full, resumed = cut_and_resume(tmp_path, SPACE, lambda: BO(predictor=flat(), n_initial=3), budget=16, stop_at=8)
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.n_fits_ == 16 - 9  # the asks after the cut fitted; the replayed ones did not


def test_an_acquisition_with_a_maximum_is_argmax_and_draws_nothing():
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    assert best_candidate(np.array([0.1, 0.3, 0.3, 0.2]), rng) == 1  # ties at the top: the first, as before
    assert rng.bit_generator.state == state
    assert best_candidate(np.array([7.0]), rng) == 0 and rng.bit_generator.state == state


def test_a_flat_or_undefined_acquisition_draws_among_the_candidates():
    picks = {best_candidate(np.full(50, 0.4), np.random.default_rng(s)) for s in range(20)}
    assert len(picks) > 10
    assert best_candidate(np.full(6, 0.4), np.random.default_rng(3)) == best_candidate(np.full(6, 0.4), np.random.default_rng(3))
    assert best_candidate(np.array([np.nan, 0.2, np.nan, 0.5]), np.random.default_rng(0)) == 3  # NaN is no maximum
    nan_ties = {best_candidate(np.array([np.nan, 0.2, np.nan, 0.2]), np.random.default_rng(s)) for s in range(20)}
    assert nan_ties == {1, 3}
    assert {best_candidate(np.full(4, np.nan), np.random.default_rng(s)) for s in range(30)} == {0, 1, 2, 3}
