"""The contract suite must catch broken strategies (a contract that cannot fail is no contract)."""

import random

import pytest

from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import BaseStrategy, RandomSearch
from nasbook.testing import StrategyContract, ToyTask


class UnseededRandom(BaseStrategy):
    """Ignores the seed (uses the global `random` module) and repeats itself."""

    tell_order_independent = True

    def _ask(self):
        keys = self.space_.keys
        key = int(keys[random.randrange(min(40, len(keys)))])
        return self.space_._from_key(key)


class OrderSensitive(RandomSearch):
    """Claims tell-order independence but reseeds from the last told value."""

    def _tell(self, trial):
        import zlib

        import numpy as np

        # crc32, not hash(): a str's hash() changes with each process (PYTHONHASHSEED), and two told orders whose
        # last ids met modulo 1000 in one process reseeded alike there, and the contract let the claim pass
        self.rng_ = np.random.default_rng(zlib.crc32(trial.arch.id.encode()))


@pytest.fixture
def space():
    return GraphSpace(ops=PROTEINS_OPS)


def test_contract_catches_nondeterminism_and_duplicates(space):
    contract = StrategyContract()
    task = ToyTask(space)
    with pytest.raises(AssertionError):
        contract.test_deterministic_under_seed(UnseededRandom(), space, task)
    with pytest.raises(AssertionError):
        contract.test_no_duplicate_proposals(UnseededRandom(), space, task)


def test_contract_catches_false_tell_order_claim(space):
    with pytest.raises(AssertionError):
        StrategyContract().test_tell_order_independence(OrderSensitive(), space, ToyTask(space))


class MaximisesAlways(BaseStrategy):
    """Greedy hill-climbing that ignores the task's direction (always keeps the largest value)."""

    def _setup(self):
        self.best_ = None

    def _ask(self):
        if self.best_ is None:
            return self._sample_new()
        return self._sample_new(lambda: self.space_.mutate(self.best_[1], self.rng_))

    def _tell(self, trial):
        if trial.value is not None and (self.best_ is None or trial.value > self.best_[0]):
            self.best_ = (trial.value, trial.arch)


def test_contract_catches_a_strategy_that_ignores_the_direction(space):
    with pytest.raises(AssertionError):
        StrategyContract().test_minimisation(MaximisesAlways(), space, ToyTask(space))


def test_minimisation_contract_passes_a_strategy_that_uses_score(space):
    class Greedy(MaximisesAlways):
        def _tell(self, trial):
            if trial.value is not None and (self.best_ is None or self._score(trial) > self.best_[0]):
                self.best_ = (self._score(trial), trial.arch)

    StrategyContract().test_minimisation(Greedy(), space, ToyTask(space))


class LeakyGreedy(MaximisesAlways):
    """Hill climbing that learns in state made by __init__, so setup() does not reset it: a search run again
    in the same process (after Ctrl-C, an interruption) starts from the first run's best and replays inexactly."""

    def __init__(self, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.best_ = None

    def _setup(self):
        pass

    def _tell(self, trial):
        if trial.value is not None and (self.best_ is None or self._score(trial) > self.best_[0]):
            self.best_ = (self._score(trial), trial.arch)


def test_contract_catches_a_strategy_whose_setup_does_not_reset_what_it_learned(space, tmp_path):
    contract, task = StrategyContract(), ToyTask(space)
    with pytest.raises(AssertionError, match="_setup"):
        contract.test_setup_resets_learned_state(LeakyGreedy(), space, task)
    with pytest.raises((AssertionError, UserWarning)):  # a ReproducibilityWarning, or different trials
        contract.test_resume_replays_exactly(LeakyGreedy(), space, task, tmp_path)
    fixed = type("Fixed", (LeakyGreedy,), {"_setup": MaximisesAlways._setup})
    contract.test_setup_resets_learned_state(fixed(), space, task)
    (tmp_path / "fixed").mkdir()
    contract.test_resume_replays_exactly(fixed(), space, task, tmp_path / "fixed")


class HiddenParameter(RandomSearch):
    """Keeps its argument as ``self._restarts``: clone() (and the contract's own runs, ASHA's base, a resumed
    search) silently use the default."""

    def __init__(self, restarts=1, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self._restarts = restarts


def test_contract_catches_a_constructor_argument_that_is_not_kept():
    with pytest.raises(AssertionError, match=r"HiddenParameter.__init__ takes \['restarts'\] but keeps no attribute"):
        StrategyContract().test_constructor_arguments_are_kept(HiddenParameter(restarts=5))
    StrategyContract().test_constructor_arguments_are_kept(RandomSearch(seed=3))


class LeakyRestarts(BaseStrategy):
    """Hill climbing with restarts whose incumbent is made in __init__ (tutorial 08's HillClimb with the
    state in the wrong place). A restart sets the incumbent's score to -inf, so after a rerun on the same
    history the stale incumbent is soon overwritten and the proposals can coincide: the contract's first
    search runs on values far above the task's, which no later value overwrites."""

    def __init__(self, n_init=10, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_init = n_init
        self.current_ = None

    def _setup(self):
        pass

    def _ask(self):
        if self.current_ is None or self.n_told_ < self.n_init:
            return self._sample_new()
        unseen = [a for a in self.space_.neighbours(self.current_[1]) if self._is_new(a)]
        if unseen:
            return unseen[int(self.rng_.integers(len(unseen)))]
        arch = self._sample_new()
        self.current_ = (float("-inf"), arch)
        return arch

    def _tell(self, trial):
        if self.current_ is None or self._score(trial) > self.current_[0]:
            self.current_ = (self._score(trial), trial.arch)


def test_contract_catches_stale_state_that_a_rerun_on_the_same_history_hides(space):
    contract = StrategyContract()
    task = contract.make_task(space)  # the contract's own task, on which a rerun with the same seed hid it
    with pytest.raises(AssertionError, match="_setup"):
        contract.test_setup_resets_learned_state(LeakyRestarts(), space, task)

    def _setup(self):
        self.current_ = None

    contract.test_setup_resets_learned_state(type("Fixed", (LeakyRestarts,), {"_setup": _setup})(), space, task)
