"""Bad input to Search, load_search, Budget and friends: refused with a nasbook error that names it
(found by benchmarks/probe_bad_input.py)."""

import json
import sqlite3

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, StorageError
from nasbook.search import Budget
from nasbook.space import ChainSpace, GraphSpace
from nasbook.tasks import Digits, NasBenchGraph, Result, Task
from nasbook.testing import ToyTask


def nbg():
    return NasBenchGraph("cora")


def _rows(path):
    con = sqlite3.connect(path)
    try:
        return [sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in ("nasbook_searches", "nasbook_trials")]
    finally:
        con.close()


@pytest.fixture
def stored(tmp_path):
    path = str(tmp_path / "runs.db")
    nasbook.Search(nbg(), budget=3, seed=0, storage=path, name="s").run(progress="none")
    return path


@pytest.mark.parametrize("call, suggestion", [
    (lambda: nasbook.Search(nbg(), budgett=10, storage=":memory:"), "did you mean 'budget'"),
    (lambda: nasbook.Search(GraphSpace(), nbg(), "evolution", storage=":memory:"), "strategy=..."),
    (lambda: Budget(trails=10), "did you mean 'trials'"),
    (lambda: nasbook.set_options("text"), "by name"),
])
def test_a_call_that_does_not_fit_the_signature_suggests_the_fix(call, suggestion):
    with pytest.raises(InvalidParameterTypeError) as info:
        call()
    assert suggestion in str(info.value)
    assert isinstance(info.value, TypeError)  # still a TypeError, as Python's own was


def test_run_and_load_search_suggest_misspelt_keywords(stored):
    with pytest.raises(InvalidParameterTypeError, match="did you mean 'progress'"):
        nasbook.Search(nbg(), budget=1, storage=":memory:").run(progres="none")
    before = _rows(stored)
    with pytest.raises(InvalidParameterTypeError, match="did you mean 'budget'"):
        nasbook.load_search("s", stored, budgett=10)
    assert _rows(stored) == before


def test_a_typeerror_raised_inside_the_call_is_not_rewritten():
    class Boom(Task):
        def __init__(self):
            raise TypeError("inside")

        def evaluate(self, arch, **kw):  # pragma: no cover
            return Result(0.0)

    with pytest.raises(TypeError, match="^inside$"):
        Boom()


def test_search_name_longer_than_the_column_is_refused():
    with pytest.raises(InvalidParameterError, match="at most 255 characters"):
        nasbook.Search(nbg(), name="x" * 256, storage=":memory:")


@pytest.mark.parametrize("callback", [lambda: None, lambda search: None])
def test_a_callback_that_cannot_take_search_and_trial_is_refused_before_running(callback):
    with pytest.raises(InvalidParameterTypeError, match=r"fn\(search, trial\)"):
        nasbook.Search(nbg(), budget=2, callbacks=[callback], storage=":memory:")


@pytest.mark.parametrize("callbacks, match", [
    ("x", r" must be a list of callables fn\(search, trial\); got 'x' of type str"),
    ([1], r" must hold callables fn\(search, trial\); got 1 of type int"),
    ([lambda: None], r": every callback is called as fn\(search, trial\)"),
])
def test_load_search_names_its_own_callbacks_parameter(stored, callbacks, match):
    # load_search passes callbacks= through to Search's checks, whose errors said "Search(callbacks=...)"
    # to a user who never called Search; they name load_search, as load_search(strategy=<class>) does
    before = _rows(stored)
    with pytest.raises(InvalidParameterTypeError, match=r"^load_search\(callbacks=\.\.\.\)" + match):
        nasbook.load_search("s", stored, callbacks=callbacks)
    assert _rows(stored) == before
    with pytest.raises(InvalidParameterTypeError, match=r"^Search\(callbacks=\.\.\.\)" + match):
        nasbook.Search(nbg(), budget=2, callbacks=callbacks, storage=":memory:")


def test_wait_refuses_a_timeout_that_is_not_a_number():
    s = nasbook.Search(nbg(), budget=2, storage=":memory:")
    with pytest.raises(InvalidParameterError, match="timeout_s"):
        s.wait(timeout_s="x")


def test_extend_in_epochs_is_refused_for_a_task_without_epochs():
    s = nasbook.Search(nbg(), budget=2, storage=":memory:").run(progress="none")
    with pytest.raises(InvalidParameterError, match="epochs"):
        s.extend(epochs=5)
    assert s.budget == Budget(trials=2)


def test_custom_task_with_a_bad_mode_or_metric_is_refused():
    t = ToyTask(GraphSpace())
    t.mode = "maximize"
    with pytest.raises(InvalidParameterError, match="maximize"):
        nasbook.Search(GraphSpace(), t, storage=":memory:")
    t = ToyTask(GraphSpace())
    t.metric = 3
    with pytest.raises(InvalidParameterError, match="metric"):
        nasbook.Search(GraphSpace(), t, storage=":memory:")


def test_a_training_task_over_a_tabular_space_is_refused():
    with pytest.raises(InvalidParameterError, match="GraphSpace, a tabular benchmark space"):
        nasbook.Search(GraphSpace(), Digits(), storage=":memory:")
    nasbook.Search(ChainSpace(kind="mlp"), Digits(), storage=":memory:")  # buildable: accepted


@pytest.mark.parametrize("path, value, match", [
    ("$.strategy.params", {"bogus": 1}, "strategy configuration does not fit RandomSearch.*bogus"),
    ("$.space.params", {"bogus": 1}, "space configuration does not fit GraphSpace.*bogus"),
    ("$.task.params", [1, 2], "task configuration is damaged"),
])
def test_load_search_names_damaged_stored_params_and_changes_nothing(stored, path, value, match):
    con = sqlite3.connect(stored)
    con.execute(f"UPDATE nasbook_searches SET config = json_set(config, '{path}', json(?))", (json.dumps(value),))
    con.commit()
    con.close()
    before = _rows(stored)
    with pytest.raises(StorageError, match=match) as info:
        nasbook.load_search("s", stored)
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
    assert _rows(stored) == before


def test_toy_task_checks_its_arguments():
    with pytest.raises(InvalidParameterTypeError, match="ToyTask\\(space=...\\)"):
        ToyTask(3)
    with pytest.raises(InvalidParameterError, match="epochs"):
        ToyTask(GraphSpace(), epochs=-1)


def test_cli_budget_zero_is_refused_not_replaced_by_the_default(tmp_path, capsys):
    from nasbook.cli import main

    assert main(["search", "--budget", "0", "--storage", str(tmp_path / "c.db"), "--quiet"]) == 2
    assert "nasbook: error: budget" in capsys.readouterr().err


def test_errors_are_nasbook_errors():
    assert issubclass(InvalidParameterTypeError, NasbookError)


class _HillClimb(nasbook.strategies.RandomSearch):
    """A user's strategy, with parameters of its own."""

    def __init__(self, steps=3, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.steps = steps


@pytest.mark.parametrize("call, param, cls, instead", [
    (lambda: nasbook.Search(GraphSpace(), ToyTask(GraphSpace()), strategy=_HillClimb, storage=":memory:"),
     "strategy", "_HillClimb", r"_HillClimb\(\.\.\.\)\)\."),
    (lambda: nasbook.Search(GraphSpace(), ToyTask(GraphSpace()), strategy=nasbook.strategies.RandomSearch,
                            storage=":memory:"), "strategy", "RandomSearch", r"RandomSearch\(\.\.\.\) or its name 'random'\)"),
    (lambda: nasbook.Search(GraphSpace(), ToyTask, storage=":memory:"), "task", "ToyTask", r"ToyTask\(\.\.\.\)\)"),
    (lambda: nasbook.Search(NasBenchGraph, storage=":memory:"), "task", "NasBenchGraph", r"NasBenchGraph\(\.\.\.\)\)"),
    (lambda: nasbook.Search(GraphSpace, ToyTask(GraphSpace()), storage=":memory:"), "space", "GraphSpace",
     r"GraphSpace\(\.\.\.\)\)"),
])
def test_a_class_given_for_an_instance_is_refused_saying_to_make_one(call, param, cls, instead):
    # Search(strategy=HillClimb) was taken and made HillClimb() with its defaults (not the steps the user meant to
    # choose); a task or space class was refused without saying that an instance was wanted
    with pytest.raises(InvalidParameterTypeError, match=rf"Search\({param}=\.\.\.\) must be a \w+ instance.*; got "
                                                        rf"<class '[\w.]+\.{cls}'> \(a class: pass {instead}"):
        call()


def test_a_predictor_class_given_for_an_instance_is_refused_saying_to_make_one():
    from nasbook.predictors import GaussianProcess, Predictor
    from nasbook.strategies import BO

    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(6)]
    with pytest.raises(InvalidParameterTypeError, match=r"Predictor\(model=\.\.\.\).*\(a class: pass "
                                                        r"GaussianProcess\(\.\.\.\) or its name 'gp'\)"):
        Predictor(model=GaussianProcess).fit(archs, list(range(6)), space=space)
    with pytest.raises(InvalidParameterTypeError, match=r"BO\(predictor=\.\.\.\).*\(a class: pass GaussianProcess"):
        nasbook.Search(space, ToyTask(space), strategy=BO(predictor=GaussianProcess), storage=":memory:")
