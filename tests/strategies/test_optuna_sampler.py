"""OptunaSampler: any Optuna sampler as a nasbook strategy (optuna is an optional extra: imported inside tests)."""

import json
import pickle
import sys
import warnings

import numpy as np
import pytest
from optuna_helpers import fixed_sampler
from strategy_helpers import cut_and_full

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError
from nasbook.search import Search, load_search
from nasbook.space import PROTEINS_OPS, CellSpace, ChainSpace, GraphSpace
from nasbook.strategies import OptunaSampler, get_strategy
from nasbook.testing import StrategyContract
from nasbook.testing._contract import _drive
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


def _optuna():
    return pytest.importorskip("optuna")


# -- the contract, on every built-in space ----------------------------------------------------------
class TestOptunaTPE(StrategyContract):
    @pytest.fixture
    def strategy(self):
        _optuna()
        return OptunaSampler()


class TestOptunaRandomInstance(StrategyContract):
    """An unseeded instance: the strategy seeds it (so the search's seed matters and replays exactly)."""

    @pytest.fixture
    def strategy(self):
        return OptunaSampler(_optuna().samplers.RandomSampler())


class TestOptunaSeededTPEInstance(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return OptunaSampler(_optuna().samplers.TPESampler(seed=1, n_startup_trials=5), seed=0)


class TestOptunaTPEOnCells(StrategyContract):
    @pytest.fixture
    def space(self):
        return CellSpace()

    @pytest.fixture
    def strategy(self):
        _optuna()
        return OptunaSampler("tpe", sampler_params={"n_startup_trials": 5})


class TestOptunaTPEOnChains(StrategyContract):
    """Variable depth: the layers' parameters exist only up to the depth chosen."""

    n_trials = 25  # Optuna's TPE re-proposes small chains often: each retry is a full TPE ask

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        _optuna()
        return OptunaSampler()


class TestOptunaTPEOnDigitsTable(StrategyContract):
    """A SubsetSpace: most parameter combinations are not members (told FAIL, projected onto a nearest member)."""

    n_trials = 30

    @pytest.fixture
    def space(self):
        from nasbook.tasks import DigitsTable

        return DigitsTable().space

    @pytest.fixture
    def strategy(self):
        _optuna()
        return OptunaSampler(max_retries=5)


class TestOptunaQMC(StrategyContract):
    @pytest.fixture
    def strategy(self):
        _optuna()
        return OptunaSampler("qmc")


def test_cmaes_by_name_is_refused_with_the_reason_and_what_to_use():
    """CMA-ES cannot model categorical parameters (all of a space's are): by name it would be a random search that
    warns once per parameter and trial, so the name is refused and the message says what to use instead."""
    _optuna()
    with pytest.raises(InvalidParameterError, match=r"(?s)categorical.*'tpe' or 'gp'.*CmaEsSampler"):
        OptunaSampler("cmaes").setup(GraphSpace(ops=PROTEINS_OPS), seed=0)


def test_gp_sampler_proposes_new_members_deterministically():
    """GPSampler models categoricals, but needs ~1 s per proposal here: a short drive, not the contract."""
    _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, seed=3)
    strategy = OptunaSampler("gp", sampler_params={"n_startup_trials": 4})
    first = _drive(strategy.clone(), space, task, 6, seed=2)
    assert len(set(first)) == 6
    assert _drive(strategy.clone(), space, task, 6, seed=2) == first


# -- seeds, resume, storage ------------------------------------------------------------------------------
def test_an_unseeded_instance_gets_the_strategys_seed():
    optuna = _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, seed=3)
    by_name = _drive(OptunaSampler("tpe"), space, task, 25, seed=5)
    assert _drive(OptunaSampler(optuna.samplers.TPESampler()), space, task, 25, seed=5) == by_name
    assert _drive(OptunaSampler(optuna.samplers.TPESampler(seed=5)), space, task, 25, seed=0) == by_name
    assert _drive(OptunaSampler(optuna.samplers.TPESampler()), space, task, 25, seed=6) != by_name


def test_the_users_sampler_is_never_used_itself():
    optuna = _optuna()
    sampler = optuna.samplers.TPESampler(seed=3)
    state = pickle.dumps(sampler)
    strategy = OptunaSampler(sampler)
    space = GraphSpace(ops=PROTEINS_OPS)
    _drive(strategy, space, ToyTask(space), 15)
    assert strategy.sampler_ is not sampler
    assert pickle.dumps(sampler) == state


def test_a_sampler_holding_a_lock_is_copied_with_a_new_lock():
    # Optuna 5.1's NSGAIISampler keeps a threading.Lock among its attributes: copy.deepcopy of it raised
    # "cannot pickle '_thread.lock' object" at the search's first setup (CI, probe 5)
    import threading

    optuna = _optuna()

    class Locked(optuna.samplers.RandomSampler):
        def __init__(self, seed=None):
            super().__init__(seed=seed)
            self._thread_lock = threading.Lock()
            self._nested = {"guard": [threading.RLock()]}

    sampler = Locked(seed=3)
    strategy = OptunaSampler(sampler)
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, seed=3)
    proposed = _drive(strategy, space, task, 10, seed=5)
    assert len(set(proposed)) == 10
    built = strategy.sampler_
    assert built is not sampler and built._thread_lock is not sampler._thread_lock
    assert isinstance(built._thread_lock, type(threading.Lock()))
    assert built._nested["guard"][0] is not sampler._nested["guard"][0]
    assert _drive(OptunaSampler(Locked(seed=3)), space, task, 10, seed=5) == proposed  # the same as a fresh copy


def _cut_and_full(tmp_path, strategy, n_cut=15, budget=35, space=None):
    """An uninterrupted search and one stopped after ``n_cut`` trials (stored as "cut" in a file)."""
    space = GraphSpace(ops=PROTEINS_OPS) if space is None else space
    return cut_and_full(tmp_path, strategy, space, n_cut=n_cut, budget=budget)


def test_a_named_sampler_resumes_exactly_from_storage_alone(tmp_path):
    _optuna()
    full, path, task = _cut_and_full(tmp_path, OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task)  # the strategy rebuilt from the stored configuration
        assert isinstance(resumed.strategy, OptunaSampler) and resumed.strategy.sampler_params == {"n_startup_trials": 5}
        resumed.run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_a_seeded_instance_resumes_exactly_when_passed_again(tmp_path):
    optuna = _optuna()
    strategy = OptunaSampler(optuna.samplers.TPESampler(seed=9, n_startup_trials=5))
    full, path, task = _cut_and_full(tmp_path, strategy)
    with pytest.raises(InvalidParameterError, match=r"load_search\(name, storage, strategy=OptunaSampler"):
        load_search("cut", path, task=task).run(progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", path, task=task, strategy=strategy.clone()).run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_config_is_json_and_names_the_sampler():
    optuna = _optuna()
    cfg = OptunaSampler(optuna.samplers.TPESampler(seed=2, n_startup_trials=7)).to_config()
    assert json.loads(json.dumps(cfg)) == cfg
    stored = cfg["params"]["sampler"]
    assert stored["optuna_sampler"].endswith("TPESampler")
    assert stored["settings"]["n_startup_trials"] == 7
    assert cfg["alias"] == "optuna" and get_strategy("optuna").__class__ is OptunaSampler
    named = OptunaSampler("gp", seed=1, sampler_params={"n_startup_trials": 3}).to_config()
    assert named["params"] == {"sampler": "gp", "seed": 1, "allow_duplicates": False, "max_retries": 10, "project": True,
                               "project_unseen": False, "sampler_params": {"n_startup_trials": 3}}


def test_repr_shows_the_sampler_and_its_settings():
    optuna = _optuna()
    text = repr(OptunaSampler(optuna.samplers.TPESampler(n_startup_trials=7, constant_liar=False)))
    assert text.startswith("OptunaSampler(sampler=TPESampler(n_startup_trials=7, constant_liar=False), seed=None")
    assert repr(OptunaSampler(optuna.samplers.RandomSampler())).startswith("OptunaSampler(sampler=RandomSampler(), ")
    assert "0x" not in text  # no memory address: the same for every copy
    space = GraphSpace(ops=PROTEINS_OPS)
    assert "seed=3" in repr(OptunaSampler("random").setup(space, seed=3))


# -- what Optuna is told ---------------------------------------------------------------------------------
def test_repeated_proposals_are_told_and_never_evaluated_twice():
    optuna = _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    strategy = OptunaSampler(fixed_sampler(optuna, lambda name, choices: choices[0]), max_retries=3)
    ids = [t[0] for t in _drive(strategy, space, ToyTask(space), 5)]
    assert len(set(ids)) == 5
    assert ids[0] == space.make(link=[0, 0, 0, 0], ops=["gcn"] * 4).id
    assert strategy.n_fallbacks_ == 4 and strategy.n_rejected_ == 4 * 4
    trials = strategy.study_.trials
    first_value = trials[0].value
    repeats = [t for t in trials if t.params == trials[0].params]
    assert len(repeats) == 1 + 16 and all(t.value == first_value for t in repeats)  # told the known value
    fallbacks = [t for t in trials if t.params != trials[0].params]
    assert len(fallbacks) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in fallbacks)


def test_combinations_that_are_no_architecture_are_told_fail():
    optuna = _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    strategy = OptunaSampler(fixed_sampler(optuna, lambda name, choices: "skip" if "skip" in choices else 0),
                             max_retries=2)
    arch = strategy.setup(space, seed=0).ask()
    assert arch in space
    states = [t.state for t in strategy.study_.trials]
    assert states == [optuna.trial.TrialState.FAIL] * 3


def test_running_trials_stay_running_and_duplicates_of_them_fail():
    optuna = _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space)
    strategy = OptunaSampler().setup(space, seed=0)
    asked = [strategy.ask() for _ in range(4)]
    running = optuna.trial.TrialState.RUNNING
    assert [t.state for t in strategy.study_.trials] == [running] * 4
    for number in (2, 0, 3, 1):  # completion order differs from ask order (a parallel executor)
        strategy.tell(Trial(number, asked[number], TrialState.COMPLETE, task.evaluate(asked[number]).value))
    values = {t.number: t.value for t in strategy.study_.trials}
    assert values == {i: task.evaluate(a).value for i, a in enumerate(asked)}
    again = OptunaSampler(fixed_sampler(optuna, lambda name, choices: choices[1]), max_retries=1).setup(space, seed=0)
    pending = again.ask()
    assert again.ask() != pending  # the repeat of a running architecture is told FAIL, then a random one
    assert again.study_.trials[1].state == optuna.trial.TrialState.FAIL


def test_with_allow_duplicates_optunas_repeats_are_evaluated_again():
    optuna = _optuna()
    space = GraphSpace(ops=PROTEINS_OPS)
    strategy = OptunaSampler(fixed_sampler(optuna, lambda name, choices: choices[0]), allow_duplicates=True)
    ids = [t[0] for t in _drive(strategy, space, ToyTask(space), 3)]
    assert len(set(ids)) == 1 and strategy.n_rejected_ == strategy.n_fallbacks_ == 0
    assert [t.state for t in strategy.study_.trials] == [optuna.trial.TrialState.COMPLETE] * 3


def test_foreign_and_failed_trials_are_added_with_their_parameters():
    optuna = _optuna()
    space = ChainSpace(kind="mlp", max_depth=3)
    strategy = OptunaSampler().setup(space, seed=0, mode="min")
    arch = space.make(layers=[["relu", 64], ["tanh", 32]])
    strategy.tell(Trial(0, arch, TrialState.COMPLETE, 0.25))
    strategy.tell(Trial(1, space.make(layers=[["gelu", 32]]), TrialState.FAILED, None, reason="boom"))
    first, second = strategy.study_.trials
    assert first.params == {"depth": 2, "layer0_op": "relu", "layer0_width": 64, "layer1_op": "tanh", "layer1_width": 32}
    assert first.value == 0.25 and second.state == optuna.trial.TrialState.FAIL
    assert strategy.study_.direction == optuna.study.StudyDirection.MINIMIZE


def test_optunas_per_trial_logs_are_silenced_and_the_level_restored():
    import logging

    optuna = _optuna()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    library = logging.getLogger("optuna")
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    library.addHandler(handler)
    try:
        optuna.create_study()  # the handler sees Optuna's INFO lines outside the strategy
        assert any("A new study created" in r for r in records)
        records.clear()
        space = GraphSpace(ops=PROTEINS_OPS)
        _drive(OptunaSampler(), space, ToyTask(space), 12)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        library.removeHandler(handler)
        optuna.logging.set_verbosity(before)
    assert records == []


# -- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"sampler": object()}, InvalidParameterTypeError, r"OptunaSampler\(sampler=...\) must be an optuna.samplers.BaseSampler"),
    ({"sampler": "tpee"}, InvalidParameterError, "did you mean 'tpe'"),
    ({"sampler_params": {"seed": 1}}, InvalidParameterError, r"must not hold 'seed'.*OptunaSampler\(seed=...\)"),
    ({"sampler_params": {"gamma": len}}, InvalidParameterError, r"sampler_params=...\) must hold JSON values"),
    ({"sampler_params": {"n_startup": 3}}, InvalidParameterError, r"sampler_params=...\) do not fit optuna.samplers.TPESampler"),
    ({"sampler_params": [1]}, InvalidParameterTypeError, r"sampler_params=...\) must be a dict"),
    ({"max_retries": -1}, InvalidParameterError, "max_retries"),
    ({"project": "yes"}, InvalidParameterTypeError, r"project=...\) must be True or False"),
])
def test_bad_parameters_are_named(kwargs, error, match):
    _optuna()
    with pytest.raises(error, match=match):
        OptunaSampler(**kwargs).setup(GraphSpace(ops=PROTEINS_OPS))


def test_sampler_params_need_a_named_sampler():
    optuna = _optuna()
    with pytest.raises(InvalidParameterError, match="only goes with a sampler name"):
        OptunaSampler(optuna.samplers.RandomSampler(), sampler_params={"seed": 1}).setup(GraphSpace())


def test_missing_optuna_is_a_nasbook_error_that_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    with pytest.raises(NasbookError, match=r"OptunaSampler needs Optuna.*pip install 'nasbook\[optuna\]'") as info:
        OptunaSampler().setup(GraphSpace())
    assert isinstance(info.value, ImportError)


def test_a_space_without_parameters_is_refused_with_what_to_implement():
    _optuna()
    from nasbook.space import NoParametersError, SearchSpace

    class Listed(SearchSpace):  # a third-party space
        name = "listed"

        def __init__(self):
            self.inner = GraphSpace(ops=("gcn", "skip"))

        def make(self, **spec):
            return self.inner.make(**spec)

        @property
        def cardinality(self):
            return self.inner.cardinality

        def sample(self, rng):
            return self.inner.sample(rng)

        def neighbours(self, arch):
            return []

        def _encode(self, arch, kind):
            return np.zeros(1)

        def _encoding_size(self, kind):
            return 1

    with pytest.raises(InvalidParameterTypeError, match=r"Listed does not.*Listed.suggest\(choose\)"):
        OptunaSampler().setup(Listed())
    with pytest.raises(NoParametersError, match=r"Implement Listed.suggest\(choose\)"):
        Listed().suggest(lambda name, choices: choices[0])


# -- a SubsetSpace (a table): non-member proposals projected onto the members ---------------------------
def _digits_space():
    from nasbook.tasks import DigitsTable

    return DigitsTable().space


def test_on_a_table_non_member_proposals_are_projected_and_fallbacks_drop():
    """97-98 % of TPE's proposals are not members of a table (docs/benchmarks.md 1k): without the projection
    most asks end in nasbook's random fallback; with it, a proposal counts through its nearest unseen member."""
    optuna = _optuna()
    space = _digits_space()
    task = ToyTask(space, seed=3)
    n = 30
    on = OptunaSampler(optuna.samplers.TPESampler(seed=100), max_retries=5)
    ids_on = [a for a, _ in _drive(on, space, task, n, seed=100)]
    assert len(set(ids_on)) == n and all(i in space.ids for i in ids_on)
    assert on.n_fallbacks_ <= n // 5  # without the projection most asks are fallbacks (below)
    assert on.n_projected_ > n // 5
    off = OptunaSampler(optuna.samplers.TPESampler(seed=100), max_retries=5, project=False)
    _drive(off, space, task, n, seed=100)
    assert off.n_fallbacks_ >= n // 2 and off.n_projected_ == 0  # the old behaviour, still there as an option
    assert _drive(on.clone(), space, task, n, seed=100) == [(i, None) for i in ids_on]  # seeded: deterministic


def test_a_projected_member_is_told_under_its_own_parameters_never_the_proposals():
    optuna = _optuna()
    space = _digits_space()
    parent = space.parent
    members, rng = set(space.ids), np.random.default_rng(100)
    proposal = parent.sample(rng)
    while proposal.id in members:  # a parent architecture the table lacks
        proposal = parent.sample(rng)
    params = {k: v for k, (_, v) in parent.parameters_of(proposal).items()}
    strategy = OptunaSampler(fixed_sampler(optuna, lambda name, choices: params[name]), max_retries=2)
    strategy.setup(space, seed=0)
    arch = strategy.ask()
    nearest = [space.members[j] for j in space.nearest_to(proposal)]
    assert arch in nearest and strategy.n_projected_ == 1 and strategy.n_fallbacks_ == 0
    (asked,) = strategy.study_.trials
    assert asked.params == params and asked.state == optuna.trial.TrialState.FAIL  # the proposal: never credited
    strategy.tell(Trial(0, arch, TrialState.COMPLETE, 0.5))
    told = strategy.study_.trials[1]
    assert told.params == {k: v for k, (_, v) in space.parameters_of(arch).items()} != params
    assert told.value == 0.5 and told.state == optuna.trial.TrialState.COMPLETE


def test_every_evaluated_member_is_in_the_study_with_its_own_parameters_and_value():
    optuna = _optuna()
    space = _digits_space()
    task = ToyTask(space, seed=3)
    strategy = OptunaSampler(optuna.samplers.TPESampler(seed=101), max_retries=5)
    ids = [a for a, _ in _drive(strategy, space, task, 25, seed=101)]
    assert strategy.n_projected_ > 0
    value = {a: task.evaluate(space.members[space.index(a)]).value for a in ids}
    own = {tuple(sorted((k, v) for k, (_, v) in space.parameters_of(space.members[space.index(a)]).items()))
           for a in ids}
    complete = [t for t in strategy.study_.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # every value Optuna holds is an evaluated member's, under parameters that make that member (its own, or
    # a repeat proposal written otherwise that canonicalizes to it, told its known value); each evaluated
    # member is there under its own parameters; the rest (non-members, never credited) FAIL
    for t in complete:
        made = space.suggest(lambda name, choices, t=t: t.params[name])
        assert value[made.id] == t.value
    assert own <= {tuple(sorted(t.params.items())) for t in complete}
    assert all(t.state == optuna.trial.TrialState.FAIL for t in strategy.study_.trials if t not in complete)


def test_nearest_to_gives_the_members_at_the_smallest_jaccard_distance():
    space = _digits_space()
    parent = space.parent
    assert space.nearest_to(space.to_parent(space.members[7])) == [7]
    codes = parent.encode_many([space.to_parent(m) for m in space.members], "adjacency") > 0.5
    rng = np.random.default_rng(100)
    for _ in range(5):
        a = parent.sample(rng)
        if a.id in space.ids:
            continue
        x = parent.encode_many([a], "adjacency")[0] > 0.5
        jac = 1.0 - (codes & x).sum(axis=1) / (codes | x).sum(axis=1)
        assert space.nearest_to(a) == [int(j) for j in np.flatnonzero(np.isclose(jac, jac.min()))]


def test_a_projecting_search_on_a_table_resumes_exactly(tmp_path):
    _optuna()
    strategy = OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3)
    full, path, task = _cut_and_full(tmp_path, strategy, n_cut=12, budget=30, space=_digits_space())
    assert full.strategy.n_projected_ > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task).run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.n_projected_ == full.strategy.n_projected_


def test_a_table_search_stored_before_projection_resumes_as_it_ran(tmp_path):
    """A configuration stored before ``project`` existed lacks it: ``load_search`` rebuilds the
    sampler without projection (``OptunaSampler.stored_defaults``), so the search goes on exactly as
    it would have; the default (projection) would propose other architectures."""
    import json
    import sqlite3

    _optuna()
    space = _digits_space()
    old = OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3, project=False)
    full, path, task = _cut_and_full(tmp_path, old, n_cut=12, budget=30, space=space)
    projected = Search(space, task, strategy=OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3),
                       budget=30, seed=4, storage=":memory:").run(progress="none")
    assert [t.arch.id for t in projected.trials] != [t.arch.id for t in full.trials]  # the default behaves otherwise
    with sqlite3.connect(path) as conn:  # what an earlier nasbook stored: no "project"
        (raw,) = conn.execute("SELECT config FROM nasbook_searches WHERE name = 'cut'").fetchone()
        config = json.loads(raw)
        del config["strategy"]["params"]["project"]
        conn.execute("UPDATE nasbook_searches SET config = ? WHERE name = 'cut'", (json.dumps(config),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task)
        assert resumed.strategy.project is False
        resumed.run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_a_stored_wrappers_base_is_rebuilt_with_its_stored_defaults():
    """ASHA(base=OptunaSampler(...)) stored before ``project`` existed: its base, rebuilt from the stored
    dict, behaves as it ran (project=False), as load_search rebuilds a top-level strategy."""
    _optuna()
    from nasbook.strategies import ASHA

    stored = ASHA(base=OptunaSampler("tpe"), max_epochs=9).to_config()["params"]
    del stored["base"]["params"]["project"], stored["base"]["params"]["project_unseen"]
    asha = ASHA(**stored).setup(GraphSpace(ops=PROTEINS_OPS), seed=0)
    assert isinstance(asha.base_, OptunaSampler)
    assert asha.base_.project is False and asha.base_.project_unseen is False
