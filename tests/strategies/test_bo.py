"""BO: predictor-guided search (contract on every built-in space, batches, resume, errors)."""

import json
import warnings

import numpy as np
import pytest
from bo_helpers import cheap

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import RandomForest
from nasbook.search import Search, load_search
from nasbook.space import PROTEINS_OPS, CellSpace, ChainSpace, GraphSpace
from nasbook.strategies import BO, get_strategy
from nasbook.testing import StrategyContract
from nasbook.testing._contract import _drive
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


# -- the contract ------------------------------------------------------------------------------------------
class TestBO(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap()


class TestBOPoolUCB(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap(candidates="pool", n_candidates=60, acquisition="ucb")


class TestBOLocal(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap(candidates="local", radius=1, n_parents=3)


class TestBOLocalOnChains(StrategyContract):  # not enumerated: the neighbourhood alone
    n_trials = 20

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return cheap(candidates="local", radius=1)


class TestBOOnCells(StrategyContract):
    n_trials = 20

    @pytest.fixture
    def space(self):
        return CellSpace()

    @pytest.fixture
    def strategy(self):
        return cheap(acquisition="ts", candidates="pool", n_candidates=40)


class TestBOOnChains(StrategyContract):
    n_trials = 20

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return cheap(candidates="pool", n_candidates=40)


class TestBOOnDigitsTable(StrategyContract):
    n_trials = 20

    @pytest.fixture
    def space(self):
        from nasbook.tasks import DigitsTable

        return DigitsTable().space

    @pytest.fixture
    def strategy(self):
        return cheap()


# -- behaviour -------------------------------------------------------------------------------------------
SPACE = GraphSpace(ops=PROTEINS_OPS)


def test_registered_and_named():
    assert type(get_strategy("bo")) is BO
    assert BO().to_config()["alias"] == "bo"


def test_it_learns_better_than_random_search_on_the_toy_task():
    task = ToyTask(SPACE, seed=3)

    def best(strategy):
        return np.mean([Search(SPACE, task, strategy=strategy.clone(), budget=30, seed=seed, storage=":memory:")
                        .run(progress="none").best.value for seed in range(3)])

    assert best(cheap()) > best(get_strategy("random"))


def test_the_model_is_fitted_after_the_initial_design_and_timed():
    task = ToyTask(SPACE, seed=3)
    s = cheap(n_initial=6).setup(SPACE, seed=0)
    for i in range(6):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
    assert s.n_fits_ == 0 and s.predictor_ is None
    s.ask()
    assert s.n_fits_ == 1 and s.predictor_.n_train_ == 6
    (n_told, fit_s, acq_s), = s.timings_
    assert n_told == 6 and fit_s > 0 and acq_s > 0
    text = repr(s)
    assert "n_fits=1" in text and "ms_per_ask=" in text and "RandomForest(" in text


def test_a_batch_differs_and_pending_architectures_join_the_fit():
    task = ToyTask(SPACE, seed=3)
    for liar in ("mean", "min", "max"):
        s = cheap(liar=liar).setup(SPACE, seed=1)
        for i in range(8):
            a = s.ask()
            s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
        batch = [s.ask() for _ in range(6)]  # nothing told in between: a parallel executor's batch
        assert len({a.id for a in batch}) == 6
        assert set(s._pending) == {a.id for a in batch}
        # the last fit saw the 8 scores told and the 5 pending before the sixth proposal
        assert s.predictor_.n_train_ == 8 + 5
        assert batch[-1].id not in {a.id for a in batch[:-1]}


def test_told_trials_leave_the_pending_set():
    task = ToyTask(SPACE, seed=3)
    s = cheap().setup(SPACE, seed=1)
    asked = [s.ask() for _ in range(3)]
    s.tell(Trial(0, asked[1], TrialState.COMPLETE, task.evaluate(asked[1]).value))
    s.tell(Trial(1, asked[0], TrialState.FAILED, None, reason="boom"))
    assert list(s._pending) == [asked[2].id]


def test_whole_space_is_scored_and_never_repeats_until_exhausted():
    tiny = GraphSpace(ops=("gcn", "skip"))
    task = ToyTask(tiny, seed=1)
    ids = _drive(cheap(n_initial=2), tiny, task, tiny.cardinality, seed=0)
    assert len({i for i, _ in ids}) == tiny.cardinality


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "ts"])
def test_minimising_proposes_what_maximising_does(acquisition):
    task = ToyTask(SPACE, seed=3)
    assert _drive(cheap(acquisition=acquisition), SPACE, task, 20, seed=2, mode="min") == \
        _drive(cheap(acquisition=acquisition), SPACE, task, 20, seed=2, mode="max")


def test_resume_replays_without_refitting_and_exactly(tmp_path):
    space = SPACE
    task = ToyTask(space, seed=3)
    full = Search(space, task, strategy=cheap(), budget=30, seed=4, storage=":memory:").run(progress="none")

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 19:
            raise Stop

    path = tmp_path / "bo.db"
    with pytest.raises(Stop):
        Search(space, task, strategy=cheap(), budget=30, seed=4, storage=path, name="cut", callbacks=[stop]).run(
            progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task, space=space)  # the strategy rebuilt from storage
        assert isinstance(resumed.strategy, BO)
        resumed.run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.n_fits_ == 10  # only the 10 asks after the cut fitted a model


def test_replay_ask_advances_like_ask():
    task = ToyTask(SPACE, seed=3)
    a = cheap().setup(SPACE, seed=3)
    b = cheap().setup(SPACE, seed=3)
    for i in range(12):
        arch = a.ask()
        assert b._replay_ask(arch) is arch
        for s in (a, b):
            s.tell(Trial(i, arch, TrialState.COMPLETE, task.evaluate(arch).value))
    assert [a.ask().id for _ in range(5)] == [b.ask().id for _ in range(5)]
    assert b.n_fits_ == 1 + 2 * 4  # the later four have pending trials: a fit, then a fit with their lies
    assert a.n_fits_ - b.n_fits_ == 12 - 5  # the replayed asks after the initial design did not fit


def test_warm_started_with_foreign_trials_it_fits_at_once():
    task = ToyTask(SPACE, seed=3)
    rng = np.random.default_rng(0)
    s = cheap(n_initial=5).setup(SPACE, seed=0)
    for i in range(6):
        arch = SPACE.sample(rng)
        s.tell(Trial(i, arch, TrialState.COMPLETE, task.evaluate(arch).value))
    s.ask()
    assert s.n_fits_ == 1


def test_trials_of_another_space_are_not_learnt_from():
    other = GraphSpace()
    task = ToyTask(SPACE, seed=3)
    s = cheap(n_initial=2).setup(SPACE, seed=0)
    rng = np.random.default_rng(0)
    s.tell(Trial(0, other.sample(rng), TrialState.COMPLETE, 1.0))
    for i in range(1, 4):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
    assert s.ask() in SPACE and s.predictor_.n_train_ == 3


@pytest.mark.parametrize("predictor", ["gp", "extra-trees"])
def test_other_predictors_by_name(predictor):
    task = ToyTask(SPACE, seed=3)
    ids = _drive(BO(predictor=predictor, n_initial=4, candidates="pool", n_candidates=50), SPACE, task, 7, seed=0)
    assert len(set(ids)) == 7


def test_config_is_json_and_rebuilds_the_predictor():
    from nasbook.predictors import Ensemble

    s = BO(predictor=Ensemble(["gp", RandomForest(n_estimators=7)], calibration="none"), acquisition="ucb")
    cfg = s.to_config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["params"]["predictor"]["predictor"] == "Ensemble"
    again = BO(**json.loads(json.dumps(cfg))["params"])
    assert repr(again._build_predictor()) == repr(s._build_predictor())
    assert again.to_config() == cfg


def test_default_surrogate_is_a_small_forest_on_graph_features_and_adjacency():
    s = BO().setup(SPACE, seed=0)
    assert type(s._template) is RandomForest and s._template.n_estimators == 50
    assert s._template.features == ("graf", "adjacency") and s._template.calibration == "none"


@pytest.mark.parametrize("radius", [1, 2])
def test_local_candidates_stay_within_radius_edits_of_the_best_told(radius):
    task = ToyTask(SPACE, seed=3)
    s = cheap(candidates="local", radius=radius, n_parents=2).setup(SPACE, seed=0)
    for i in range(12):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
        if i >= 5:  # model-based: within radius edits of one of the 2 best told before this ask
            told = sorted(s._told[:-1], key=lambda t: -t[1])[:2]
            reach = {p.id for p, _ in told}
            frontier = [p for p, _ in told]
            for _ in range(radius):
                frontier = [b for f in frontier for b in SPACE.neighbours(f)]
                reach |= {b.id for b in frontier}
            assert a.id in reach
    region = s._region()
    assert region and all(s._is_new(a) for a in region) and len({a.id for a in region}) == len(region)


def test_local_candidates_fall_back_to_the_space_when_the_neighbourhood_is_seen():
    tiny = GraphSpace(ops=("gcn", "skip"))
    task = ToyTask(tiny, seed=1)
    ids = _drive(cheap(n_initial=2, candidates="local", radius=1, n_parents=1), tiny, task, tiny.cardinality, seed=0)
    assert len({i for i, _ in ids}) == tiny.cardinality


# -- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "error", "match"), [
    ({"acquisition": "pi"}, InvalidParameterError, r"BO\(acquisition=\.\.\.\).*'ei', 'ts', 'ucb'"),
    ({"liar": "median"}, InvalidParameterError, r"BO\(liar=\.\.\.\).*'max', 'mean', 'min'"),
    ({"candidates": "all"}, InvalidParameterError, r"BO\(candidates=\.\.\.\)"),
    ({"n_initial": 0}, InvalidParameterError, r"n_initial"),
    ({"n_initial": 2.5}, InvalidParameterError, r"n_initial"),
    ({"n_candidates": 0}, InvalidParameterError, r"n_candidates"),
    ({"kappa": -1.0}, InvalidParameterError, r"BO\(kappa=\.\.\.\)"),
    ({"radius": 0}, InvalidParameterError, r"BO\(radius=\.\.\.\).*>= 1"),
    ({"n_parents": 0}, InvalidParameterError, r"BO\(n_parents=\.\.\.\).*>= 1"),
    ({"radius": 1.5}, InvalidParameterError, r"radius"),
    ({"predictor": "gaussian"}, InvalidParameterError, r"BO\(predictor=\.\.\.\).*'gp'"),
    ({"predictor": 3}, InvalidParameterTypeError, r"BO\(predictor=\.\.\.\) must be"),
    ({"predictor": RandomForest(n_estimators=1)}, InvalidParameterError, r"n_estimators"),
])
def test_bad_parameters_name_themselves(params, error, match):
    with pytest.raises(error, match=match):
        BO(**params).setup(SPACE, seed=0)
