from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from display_helpers import XSS

import nasbook
from nasbook._errors import TrialFailed
from nasbook._options import reset_options
from nasbook.space import ChainSpace
from nasbook.tasks import Result, Task


@pytest.fixture(autouse=True)
def _default_options():
    reset_options()
    yield
    reset_options()


class EvilTask(Task):
    """Fails every architecture whose id is in ``fail_ids`` with a reason holding markup."""

    metric = "score"
    mode = "max"

    def __init__(self, fail_ids: tuple[str, ...] = ()):
        self.fail_ids = tuple(fail_ids)

    def evaluate(self, arch, *, fidelity: Mapping[str, Any] | None = None, report=None, **kwargs: Any) -> Result:
        if arch.id in self.fail_ids:
            raise TrialFailed(f"{XSS} diverged at layer <b>2</b> & more")
        depth = len(arch["layers"])
        return Result(1.0 / depth, attrs={"<script>key</script>": XSS, "test_score": 0.5})


@pytest.fixture(scope="session")
def nbg_search():
    """A finished 30-trial evolution search on NAS-Bench-Graph cora."""
    from nasbook.tasks import NasBenchGraph

    return nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=30, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def toy_failed_search():
    """A finished search over a chain space where some trials failed (nasbook.testing.ToyTask)."""
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp", max_depth=2)
    probe = nasbook.Search(space, ToyTask(space), strategy="random", budget=12, seed=3, storage=":memory:").run()
    fail_ids = tuple(t.arch.id for t in probe.trials[1::3])
    search = nasbook.Search(space, ToyTask(space, fail_ids=fail_ids), strategy="random", budget=12, seed=3, storage=":memory:")
    search.run()
    assert any(t.state.value == "failed" for t in search.trials)
    return search


@pytest.fixture(scope="session")
def evil_search():
    """A search named with markup whose failure reasons and attrs hold markup too."""
    space = ChainSpace(kind="mlp", max_depth=2)
    rng = np.random.default_rng(0)
    fail_ids = tuple({space.sample(rng).id for _ in range(60)})
    search = nasbook.Search(space, EvilTask(fail_ids), strategy="random", budget=10, seed=1, storage=":memory:", name=XSS)
    search.run()
    assert any(t.reason and XSS in t.reason for t in search.trials)
    assert search.best is not None
    return search
