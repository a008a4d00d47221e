"""The contract every strategy passes (like scikit-learn's estimator checks)."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest

from nasbook.search import Search, load_search
from nasbook.space import PROTEINS_OPS, GraphSpace, SearchSpace
from nasbook.strategies import BaseStrategy, Proposal, clone
from nasbook.testing._params_check import assert_constructor_arguments_kept
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState, Wait


def _drive(strategy: BaseStrategy, space: SearchSpace, task: ToyTask, n: int, seed: int = 0,
           mode: str = "max", offset: float = 0.0) -> list[tuple[str, int | None]]:
    """ask/tell ``n`` times synchronously; return the proposals as (arch id, epochs).

    With ``mode="min"`` the strategy is told the negated objective, so a strategy that handles the
    direction correctly proposes exactly what it proposes with ``mode="max"``. ``offset`` is added
    to every told value (and curve point): a history far better than the task's own.
    """
    strategy.setup(space, seed=seed, mode=mode)
    sign = -1.0 if mode == "min" else 1.0
    ids: list[tuple[str, int | None]] = []
    for number in range(n):
        asked = strategy.ask()
        assert not isinstance(asked, Wait) and asked is not None, "a synchronous ask/tell loop never has to wait"
        p = asked if isinstance(asked, Proposal) else Proposal(asked)
        res = task.evaluate(p.arch, fidelity={"epochs": p.epochs} if p.epochs else None)
        curves = {k: [sign * x + offset for x in v] for k, v in res.curves.items()}
        strategy.tell(Trial(number, p.arch, TrialState.COMPLETE, sign * res.value + offset, epochs=res.epochs,
                            n_told_before=number, curves=curves, parent=p.parent, lineage=p.lineage))
        ids.append((p.arch.id, p.epochs))
    return ids


def _arch(asked: Any) -> Any:
    return asked.arch if isinstance(asked, Proposal) else asked


class StrategyContract:
    """Subclass and provide a ``strategy`` fixture; optionally override ``space``/``n_trials``."""

    n_trials: int = 60
    #: epochs of the toy task (> 0 for multi-fidelity strategies, which ask for epochs)
    task_epochs: int = 0

    def make_task(self, space: SearchSpace) -> ToyTask:
        """The toy task the contract searches on; override to test on another.

        Parameters
        ----------
        space : SearchSpace
            The ``space`` fixture.

        Returns
        -------
        ToyTask
            Seeded, with :attr:`task_epochs` epochs (0: no epochs).
        """
        return ToyTask(space, seed=3, epochs=self.task_epochs)

    @pytest.fixture
    def strategy(self) -> BaseStrategy:
        raise NotImplementedError("subclasses provide a `strategy` fixture returning a fresh instance")

    @pytest.fixture
    def space(self) -> SearchSpace:
        return GraphSpace(ops=PROTEINS_OPS)  # 2,021 architectures: small, but room to search

    @pytest.fixture
    def task(self, space: SearchSpace) -> ToyTask:
        return self.make_task(space)

    # -- the contract -----------------------------------------------------------------------------
    def test_proposals_are_members(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        strategy.setup(space, seed=0, mode="max")
        for number in range(self.n_trials):
            arch = _arch(strategy.ask())
            assert arch in space
            strategy.tell(Trial(number, arch, TrialState.COMPLETE, task.evaluate(arch).value, epochs=task.epochs or None))

    def test_deterministic_under_seed(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        a = _drive(clone(strategy), space, task, self.n_trials, seed=7)
        b = _drive(clone(strategy), space, task, self.n_trials, seed=7)
        assert a == b

    def test_setup_resets_learned_state(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        """``setup`` resets everything learned (state made in ``__init__`` is not reset): a search that
        runs again in the same process sets the same instance up again and replays its history.

        The instance first searches with another seed on values far above the task's (``offset``), so
        an incumbent, population or model left over from it outranks everything the second search
        sees and shows in its proposals; those must be a fresh instance's."""
        s = clone(strategy)
        _drive(s, space, task, self.n_trials, seed=11, offset=1e6)
        first = _drive(clone(strategy), space, task, self.n_trials, seed=7)
        assert _drive(s, space, task, self.n_trials, seed=7) == first, (
            f"{type(strategy).__name__} proposes differently after a second setup(): reset what it learns in "
            "_setup(), not in __init__")

    def test_seed_matters(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        if strategy.seed is not None:
            pytest.skip("the strategy fixes its own seed")
        a = _drive(clone(strategy), space, task, self.n_trials, seed=1)
        b = _drive(clone(strategy), space, task, self.n_trials, seed=2)
        assert a != b

    def test_no_duplicate_proposals(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        if strategy.allow_duplicates:
            pytest.skip("duplicates were asked for")
        ids = _drive(clone(strategy), space, task, 4 * self.n_trials, seed=0)
        assert len(ids) == len(set(ids))

    def test_tell_order_independence(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        if not type(strategy).tell_order_independent:
            pytest.skip("the strategy does not claim tell-order independence")
        batch = 12
        first = clone(strategy).setup(space, seed=5, mode="max")
        second = clone(strategy).setup(space, seed=5, mode="max")
        asked_1 = [_arch(first.ask()) for _ in range(batch)]
        asked_2 = [_arch(second.ask()) for _ in range(batch)]
        assert asked_1 == asked_2
        trials = [Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value) for i, a in enumerate(asked_1)]
        for t in trials:
            first.tell(t)
        for t in reversed(trials):
            second.tell(t)
        assert [_arch(first.ask()).id for _ in range(batch)] == [_arch(second.ask()).id for _ in range(batch)]

    def test_accepts_foreign_and_failed_trials(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        import numpy as np

        rng = np.random.default_rng(0)
        s = clone(strategy).setup(space, seed=0, mode="max")
        # trials it never proposed (a warm start) and failed ones must be absorbed
        for i in range(10):
            arch = space.sample(rng)
            s.tell(Trial(i, arch, TrialState.COMPLETE, task.evaluate(arch).value))
        s.tell(Trial(10, space.sample(rng), TrialState.FAILED, None, reason="boom"))
        for _ in range(5):
            assert _arch(s.ask()) in space

    def test_minimisation(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        """Minimising -f must propose exactly what maximising f proposes (the direction is handled
        everywhere values are compared: selection, promotion, pruning)."""
        maximised = _drive(clone(strategy), space, task, self.n_trials, seed=4, mode="max")
        minimised = _drive(clone(strategy), space, task, self.n_trials, seed=4, mode="min")
        assert minimised == maximised

    def test_budget_respected(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask) -> None:
        search = Search(space, task, strategy=clone(strategy), budget=25, seed=0, storage=":memory:")
        search.run()
        assert search.n_trials == 25
        search.extend(5).run()
        assert search.n_trials == 30

    def test_exhausts_a_small_space(self, strategy: BaseStrategy) -> None:
        if strategy.allow_duplicates:
            pytest.skip("duplicates were asked for")
        tiny = GraphSpace(ops=("gcn", "skip"))
        budget = 10 * tiny.cardinality
        search = Search(tiny, self.make_task(tiny), strategy=clone(strategy), budget=budget, seed=0, storage=":memory:")
        with pytest.warns(UserWarning, match="stopped"):
            search.run()
        assert search.n_trials < budget
        assert len({t.arch.id for t in search.trials}) == tiny.cardinality
        if not self.task_epochs:
            assert search.n_trials == tiny.cardinality

    def test_resume_replays_exactly(self, strategy: BaseStrategy, space: SearchSpace, task: ToyTask, tmp_path: Any) -> None:
        path = tmp_path / "contract.db"
        full = Search(space, task, strategy=clone(strategy), budget=40, seed=11, storage=":memory:").run()

        class Stop(Exception):
            pass

        def stop_after_17(search: Search, trial: Trial) -> None:
            if trial.number == 16:
                raise Stop

        cut = Search(space, task, strategy=clone(strategy), budget=40, seed=11, storage=path, name="cut",
                     callbacks=[stop_after_17])
        with pytest.raises(Stop):
            cut.run()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ReproducibilityWarning fails the contract
            resumed = load_search("cut", path, task=task, space=space, strategy=clone(strategy)).run()
        assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
        # the same search object run again in this process: its own strategy instance is set up again
        again = Search(space, task, strategy=clone(strategy), budget=40, seed=11, storage=":memory:", callbacks=[stop_after_17])
        with pytest.raises(Stop):
            again.run()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            again.run()
        assert [t.arch.id for t in again.trials] == [t.arch.id for t in full.trials], "a rerun in the same process differs"

    def test_constructor_arguments_are_kept(self, strategy: BaseStrategy) -> None:
        assert_constructor_arguments_kept(strategy)

    def test_pickles_before_setup(self, strategy: BaseStrategy) -> None:
        again = pickle.loads(pickle.dumps(strategy))
        assert again.to_config() == strategy.to_config()
