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
