"""Small searches shared by the viz tests (module-scoped: built once, in memory)."""

import pytest

import nasbook
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import SuccessiveHalving
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask


class MinToy(ToyTask):
    """ToyTask minimised, to check that builders respect mode='min'."""

    mode = "min"


@pytest.fixture(scope="session")
def cora():
    return nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=30, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def cora_evo():
    return nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=20, seed=1, storage=":memory:").run()


@pytest.fixture(scope="session")
def curves():
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, epochs=5)
    strategy = SuccessiveHalving(max_epochs=9, n_initial=9)
    return nasbook.Search(space, task, strategy=strategy, budget=30, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def minimised():
    space = GraphSpace(ops=PROTEINS_OPS)
    return nasbook.Search(space, MinToy(space), strategy="random", budget=20, seed=0, storage=":memory:").run()
