"""A strategy of one's own that breaks the contract is stopped with a nasbook error naming it (outside probe 6a):
an ``_ask`` returning None, a str or a dict raised a bare TypeError, and one returning a forged architecture (the
space's id, a spec no member has) reached the task, failed five trials and stopped the run with a
RepeatedTrialFailure spanning lines."""

from __future__ import annotations

import pytest

import nasbook
from nasbook import InvalidArchitectureError, NasbookError
from nasbook.space import Architecture, CellSpace
from nasbook.strategies import BaseStrategy
from nasbook.testing import ToyTask

SPACE = CellSpace(n_nodes=3, ops=("none", "skip_connect", "nor_conv_3x3"))


class _Returns(BaseStrategy):
    what: object = None

    def _ask(self):
        return self.what


class _AsksNone(_Returns):
    what = None


class _AsksStr(_Returns):
    what = "an architecture"


class _AsksDict(BaseStrategy):
    def _ask(self):
        return dict(self.space_.sample(self.rng_).spec)


class _AsksForged(BaseStrategy):
    def _ask(self):
        return Architecture(self.space_.space_id, f"forged{self.n_told_}", {"bogus": [1, 2]})


class _CountingTask(ToyTask):
    calls = 0

    def evaluate(self, arch, **kw):
        type(self).calls += 1
        return super().evaluate(arch, **kw)


@pytest.mark.parametrize("cls", [_AsksNone, _AsksStr, _AsksDict])
def test_an_ask_returning_no_architecture_is_a_nasbook_type_error_naming_ask(cls):
    search = nasbook.Search(SPACE, ToyTask(SPACE), strategy=cls(), budget=3, seed=0, storage=":memory:")
    with pytest.raises(NasbookError, match=r"_ask\(\) must return an Architecture") as err:
        search.run(progress="none")
    assert isinstance(err.value, TypeError)  # still what an `except TypeError` caught before
    assert search.n_trials == 0


def test_a_forged_architecture_is_refused_before_the_task_sees_it():
    task = _CountingTask(SPACE)
    _CountingTask.calls = 0
    search = nasbook.Search(SPACE, task, strategy=_AsksForged(), budget=6, seed=0, storage=":memory:")
    with pytest.raises(InvalidArchitectureError) as err:
        search.run(progress="none")
    text = str(err.value)
    assert "_AsksForged proposed an architecture that is not a member" in text and "forged0" in text
    assert len(text.splitlines()) == 1
    assert _CountingTask.calls == 0 and search.n_trials == 0


def test_members_of_the_space_still_run():
    search = nasbook.Search(SPACE, ToyTask(SPACE), strategy="evolution", budget=5, seed=0, storage=":memory:")
    assert search.run(progress="none").n_trials == 5


class _Epochs(BaseStrategy):
    def __init__(self, epochs=2, parent=None, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.epochs, self.parent = epochs, parent

    def _ask(self):
        from nasbook.trial import Proposal

        return Proposal(self._sample_new(), epochs=self.epochs, parent=self.parent)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, "2"])
def test_a_proposal_of_bad_epochs_is_refused_before_the_task_sees_it(epochs):
    task = _CountingTask(SPACE, epochs=4)
    _CountingTask.calls = 0
    search = nasbook.Search(SPACE, task, strategy=_Epochs(epochs), budget=3, seed=0, storage=":memory:")
    with pytest.raises(NasbookError, match=r"_Epochs's Proposal\(epochs=\.\.\.\) must be an int >= 1"):
        search.run(progress="none")
    assert _CountingTask.calls == 0


def test_a_proposal_continuing_a_trial_that_does_not_exist_is_refused():
    search = nasbook.Search(SPACE, ToyTask(SPACE, epochs=4), strategy=_Epochs(3, parent=99), budget=3, seed=0, storage=":memory:")
    with pytest.raises(NasbookError, match=r"Proposal\(parent=99\) for architecture \w+, but that is no finished trial"):
        search.run(progress="none")


def test_numpy_epochs_run_as_plain_ints():
    import numpy as np

    search = nasbook.Search(SPACE, ToyTask(SPACE, epochs=4), strategy=_Epochs(np.int64(2)), budget=2, seed=0, storage=":memory:")
    assert [t.epochs for t in search.run(progress="none").trials] == [2, 2]


def test_a_proposal_continuing_another_architecture_is_refused():
    from nasbook.trial import Proposal

    class Other(BaseStrategy):
        def _ask(self):
            return Proposal(self._sample_new(), epochs=3, parent=0 if self.n_told_ else None)

    search = nasbook.Search(SPACE, ToyTask(SPACE, epochs=4), strategy=Other(), budget=3, seed=0, storage=":memory:")
    with pytest.raises(NasbookError, match=r"Proposal\(parent=0\) for architecture \w+, but that is a trial of another architecture"):
        search.run(progress="none")
    assert search.n_trials == 1
