"""Every built-in strategy passes the public contract suite."""

import pytest

from nasbook.strategies import LocalSearch, RandomSearch, RegularizedEvolution
from nasbook.testing import StrategyContract


class TestRandomSearch(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return RandomSearch()


class TestRegularizedEvolution(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return RegularizedEvolution(population_size=10, sample_size=3)


class TestLocalSearchFirst(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return LocalSearch(n_initial=5, improvement="first")


class TestLocalSearchBest(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return LocalSearch(n_initial=5, improvement="best")


class TestEvolutionOnCells(StrategyContract):
    """The contract holds on other spaces too."""

    @pytest.fixture
    def space(self):
        from nasbook.space import CellSpace

        return CellSpace()

    @pytest.fixture
    def strategy(self):
        return RegularizedEvolution(population_size=10, sample_size=3)


class TestLocalSearchOnChains(StrategyContract):
    @pytest.fixture
    def space(self):
        from nasbook.space import ChainSpace

        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return LocalSearch(n_initial=5)


class TestASHA(StrategyContract):
    task_epochs = 9

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import ASHA

        return ASHA(base=RegularizedEvolution(population_size=10, sample_size=3), min_epochs=1, max_epochs=9, eta=3)


class TestSuccessiveHalving(StrategyContract):
    task_epochs = 9

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import SuccessiveHalving

        return SuccessiveHalving(base="random", min_epochs=1, max_epochs=9, eta=3)


class TestHyperband(StrategyContract):
    task_epochs = 9

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import Hyperband

        return Hyperband(base="evolution", min_epochs=1, max_epochs=9, eta=3)


class TestMedianStopping(StrategyContract):
    task_epochs = 6

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import MedianStopping

        return MedianStopping(base=RegularizedEvolution(population_size=10, sample_size=3), min_trials=3)


class TestGrowthOnChains(StrategyContract):
    task_epochs = 4  # Growth trains for epochs: Search refuses it on a task without them (epochs fixed: the
    # contract drives it without a search, which would otherwise give a continued trial its parent's epochs again)

    @pytest.fixture
    def space(self):
        from nasbook.space import ChainSpace

        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import Growth

        return Growth(population_size=5, sample_size=2, start_epochs=4, child_epochs=4, train_more=False)


class TestGrowthOnCells(StrategyContract):
    task_epochs = 4  # Growth trains for epochs: Search refuses it on a task without them (epochs fixed: the
    # contract drives it without a search, which would otherwise give a continued trial its parent's epochs again)

    @pytest.fixture
    def space(self):
        from nasbook.space import CellSpace

        return CellSpace()

    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import Growth

        return Growth(population_size=5, sample_size=2, start_epochs=4, child_epochs=4, train_more=False)
