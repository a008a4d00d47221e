"""load_search of a stored strategy nasbook cannot rebuild: the message says what works."""
import pytest

import nasbook
from nasbook.space import GraphSpace
from nasbook.testing import ToyTask


def test_a_builtin_that_cannot_be_rebuilt_is_not_advised_to_be_registered(tmp_path):
    # outside probe 2: the refusal ended "or register the class first: nasbook.strategies.register(OptunaSampler)",
    # which register() itself refuses (a built-in's name); the same for a Portfolio with an arm of the user's
    optuna = pytest.importorskip("optuna")
    from nasbook.strategies import OptunaSampler, Portfolio, RandomSearch

    class MyArm(RandomSearch):
        pass

    space = GraphSpace(ops=("gcn", "sage", "fc", "skip"))
    task = ToyTask(space, fail_ids=())
    db = tmp_path / "r.db"
    for name, strategy in (("tpe", OptunaSampler(optuna.samplers.TPESampler(seed=1))), ("pf", Portfolio([MyArm(), "evolution"]))):
        nasbook.Search(space, task, strategy=strategy, budget=3, seed=1, storage=db, name=name).run(progress="none")
        with pytest.raises(nasbook.InvalidParameterError, match=r"pass strategy=\.\.\. to load_search") as info:
            nasbook.load_search(name, db, task=task)
        assert f"register({type(strategy).__name__})" not in str(info.value)
        assert "KnowledgeBase(<the storage>).trials(search=<its name>)" in str(info.value)
        assert len(nasbook.KnowledgeBase(db).trials(search=name)) == 3  # what the message offers works
    with pytest.raises(nasbook.InvalidParameterError, match=r"register\(MyArm\)|register\(MyStrategy\)"):
        nasbook.load_search("pf", db, task=task)  # the arm's own hint stays


def test_a_class_of_the_users_is_still_advised_to_be_registered(tmp_path):
    from nasbook.strategies import RandomSearch

    class Mine(RandomSearch):
        pass

    space = GraphSpace(ops=("gcn", "sage", "fc", "skip"))
    task = ToyTask(space, fail_ids=())
    nasbook.Search(space, task, strategy=Mine(), budget=3, seed=1, storage=tmp_path / "m.db", name="m").run(progress="none")
    with pytest.raises(nasbook.InvalidParameterError, match=r"nasbook\.strategies\.register\(Mine\)"):
        nasbook.load_search("m", tmp_path / "m.db", task=task)
