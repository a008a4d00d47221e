"""RegularizedEvolution and Growth with numpy integers run and store as with ints (outside probe 4:
``RegularizedEvolution(population_size=np.int64(5))`` failed at its first ask, "TypeError: an integer is
required", from ``deque(maxlen=...)``; Growth named AlphaSchedule's parameters for its own)."""
import json

import numpy as np
import pytest

import nasbook
from nasbook import InvalidParameterError
from nasbook.space import ChainSpace
from nasbook.strategies import Growth, RegularizedEvolution
from nasbook.tasks import Digits, NasBenchGraph


def _ids(strategy):
    s = nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=12, seed=433, storage=":memory:").run(progress="none")
    return [t.arch.id for t in s.trials]


def test_evolution_with_numpy_sizes_runs_the_same_trials():
    assert _ids(RegularizedEvolution(population_size=np.int64(5), sample_size=np.int64(2))) == _ids(
        RegularizedEvolution(population_size=5, sample_size=2))


def test_growth_keeps_plain_ints_and_names_its_own_parameters():
    space = ChainSpace(kind="cnn", max_depth=3, widths=(8, 16), ops=("conv3x3", "conv1x1"))
    g = Growth(population_size=np.int64(4), sample_size=np.int64(2), blend_length=np.int64(5), patience=np.int64(1),
               child_epochs=np.int64(3))
    s = nasbook.Search(space, Digits(max_epochs=3), strategy=g, budget=3, seed=434, storage=":memory:")
    json.dumps(s.strategy.to_config())  # plain ints: numpy's are not JSON
    for kw, word in (({"blend_length": 0}, r"Growth\(blend_length=...\)"), ({"blend_every": "batch"}, r"Growth\(blend_every=...\)")):
        with pytest.raises(InvalidParameterError, match=word):
            Growth(**kw)._validate_params()
