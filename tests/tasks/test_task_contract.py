"""Every built-in task passes the public task contract."""

import pytest

from nasbook.space import ChainSpace, GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.tasks import DigitsTable, NasBenchGraph
from nasbook.testing import TaskContract, ToyTask


class TestNasBenchGraph(TaskContract):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls):
        return NasBenchGraph("cora")


class TestNasBenchGraphProteins(TaskContract):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls):
        return NasBenchGraph("proteins")


class TestDigitsTable(TaskContract):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls):
        return DigitsTable()


class TestToyTask(TaskContract):
    @pytest.fixture
    def task(self):
        return ToyTask(GraphSpace(ops=PROTEINS_OPS), seed=1)


class TestToyTaskWithEpochs(TaskContract):
    @pytest.fixture
    def task(self):
        return ToyTask(GraphSpace(ops=PROTEINS_OPS), seed=1, epochs=4)


@pytest.mark.slow
class TestDigits(TaskContract):
    """Real Lightning training (a few seconds per evaluation)."""

    deterministic = True
    n_archs = 1

    @pytest.fixture(scope="class")
    @classmethod
    def task(cls):
        from nasbook.tasks import Digits

        return Digits(max_epochs=3)

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=2)
