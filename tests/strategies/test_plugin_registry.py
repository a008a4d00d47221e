"""Plug-ins registered under the entry-point groups, as a researcher's installed package registers them:
used by name, stored, and resumed by ``load_search`` without passing them again; a name that clashes
with a built-in is refused with a warning instead of silently."""

import warnings

import numpy as np
import pytest

import nasbook
from nasbook.predictors import Predictor, available_predictors
from nasbook.strategies import BO, available_strategies, get_strategy
from nasbook.testing import ToyTask

PLUGIN = '''
from nasbook.predictors import BasePredictor
from nasbook.strategies import BaseStrategy


class Greedy(BaseStrategy):
    def __init__(self, n_init=5, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_init = n_init

    def _setup(self):
        self.best_ = None

    def _ask(self):
        if self.best_ is None or self.n_told_ < self.n_init or self.rng_.random() < 0.3:
            return self._sample_new()
        parent = self.best_[1]
        return self._sample_new(lambda: self.space_.mutate(parent, self.rng_))

    def _tell(self, trial):
        if trial.value is not None and (self.best_ is None or self._score(trial) > self.best_[0]):
            self.best_ = (self._score(trial), trial.arch)


class Knn(BasePredictor):
    def __init__(self, k=5, features="auto", target="rank", calibration="none", seed=None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.k = k

    def _fit(self, X, z):
        self.X_, self.z_ = X, z

    def _predict(self, X):
        import numpy as np
        d = ((X[:, None, :] - self.X_[None]) ** 2).sum(-1)
        near = self.z_[np.argsort(d, axis=1, kind="stable")[:, : self.k]]
        return near.mean(1), near.std(1) + 1e-3
'''


@pytest.fixture
def installed(install_plugin):
    """A package ``nb_extend_plugin`` installed with entry points, as ``pip install`` would leave it."""
    return install_plugin("nb_extend_plugin", PLUGIN, {"nasbook.strategies": {"greedy": "nb_extend_plugin:Greedy"},
                                                       "nasbook.predictors": {"knn": "nb_extend_plugin:Knn"}})


@pytest.fixture
def space():
    from nasbook.space import PROTEINS_OPS, GraphSpace

    return GraphSpace(ops=PROTEINS_OPS)


def test_a_registered_strategy_is_used_by_name_and_resumed_without_passing_it(installed, space, tmp_path):
    assert "greedy" in available_strategies()
    task = ToyTask(space, seed=2)
    full = nasbook.Search(space, task, strategy="greedy", budget=30, seed=1, storage=":memory:").run(progress=False)
    path = tmp_path / "runs.db"
    nasbook.Search(space, task, strategy="greedy", budget=12, seed=1, storage=path, name="g").run(progress=False)
    # the store records the class name 'Greedy'; the entry point is named 'greedy'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = nasbook.load_search("g", path, task=task, budget=30)
        assert type(resumed.strategy).__name__ == "Greedy"
        resumed.run(progress=False)
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_a_registered_predictor_is_used_by_name_and_in_a_resumed_bo(installed, space, tmp_path):
    archs = space.enumerate()[:40]
    y = np.arange(40.0)
    assert type(Predictor(model="knn", seed=0).fit(archs, y).model_).__name__ == "Knn"
    knn = available_predictors()["knn"]
    assert not isinstance(knn, type)  # listed before it is loaded
    from nb_extend_plugin import Knn

    task = ToyTask(space, seed=2)
    path = tmp_path / "bo.db"
    nasbook.Search(space, task, strategy=BO(predictor=Knn(k=3), n_initial=5), budget=8, seed=0, storage=path,
                   name="bo").run(progress=False)
    resumed = nasbook.load_search("bo", path, task=task, budget=10)  # stored as {'predictor': 'Knn', ...}
    assert type(resumed.strategy._template).__name__ == "Knn"
    assert resumed.run(progress=False).n_trials == 10


def test_an_entry_point_that_reuses_a_builtin_name_warns_and_is_ignored(installed, space):
    with open(installed / "entry_points.txt", "a") as f:
        f.write("\n[nasbook.strategies]\nevolution = nb_extend_plugin:Greedy\n")
    with pytest.warns(nasbook.NasbookWarning, match=r"'evolution' = 'nb_extend_plugin:Greedy'.*is ignored.*built-in "
                                                    r"RegularizedEvolution"):
        strategy = get_strategy("evolution")
    assert type(strategy).__name__ == "RegularizedEvolution"


def test_load_search_of_an_unregistered_strategy_says_to_pass_it(space, tmp_path):
    from nasbook.strategies import RandomSearch

    class Mine(RandomSearch):
        pass

    task = ToyTask(space)
    nasbook.Search(space, task, strategy=Mine(), budget=3, seed=0, storage=tmp_path / "m.db", name="m").run(progress=False)
    read_only = nasbook.load_search("m", tmp_path / "m.db", task=task)  # loads read-only: its trials, not a resume
    with pytest.raises(nasbook.InvalidParameterError, match=r"strategy class 'Mine'.*load_search\('m', .*strategy=\.\.\.\)"):
        read_only.run(progress=False)
    assert nasbook.load_search("m", tmp_path / "m.db", task=task, strategy=Mine()).strategy.__class__ is Mine


def test_load_search_of_a_portfolio_with_an_arm_of_your_own_says_to_pass_it(space, tmp_path):
    from nasbook.strategies import Portfolio, RandomSearch

    class MyArm(RandomSearch):
        pass

    task = ToyTask(space)
    nasbook.Search(space, task, strategy=Portfolio([MyArm(), "evolution"]), budget=4, seed=0, storage=tmp_path / "p.db",
                   name="p").run(progress=False)
    read_only = nasbook.load_search("p", tmp_path / "p.db", task=task)  # loads read-only: its trials, not a resume
    with pytest.raises(nasbook.InvalidParameterError, match=r"strategy Portfolio.*strategy=\.\.\.\).*'MyArm'"):
        read_only.run(progress=False)


def test_an_entry_point_named_like_a_builtin_class_is_ignored_and_a_broken_one_is_named(installed, install_plugin):
    from nasbook.strategies import RandomSearch, strategy_class

    with open(installed / "entry_points.txt", "a") as f:  # the class name a stored RandomSearch search records
        f.write("\n[nasbook.strategies]\nRandomSearch = nb_extend_plugin:Greedy\n")
    with pytest.warns(nasbook.NasbookWarning, match=r"'RandomSearch' = 'nb_extend_plugin:Greedy'.*is ignored.*built-in "
                                                    r"RandomSearch"):
        assert strategy_class("RandomSearch") is RandomSearch
    install_plugin("nb_broken_strategy", "raise RuntimeError('half-installed')\n",
                   {"nasbook.strategies": {"broken": "nb_broken_strategy:Broken"}})
    with pytest.warns(nasbook.NasbookWarning), pytest.raises(
            nasbook.NasbookError, match=r"The strategy plug-in 'broken' = 'nb_broken_strategy:Broken' \(entry-point group "
                                        r"'nasbook\.strategies', package nb-broken-strategy 0\.1\) failed to import: "
                                        r"RuntimeError: half-installed"):
        get_strategy("broken")


# -- the entry points are read once, and again when something may have been installed -------------------
def test_name_look_ups_read_the_entry_points_once_yet_see_a_plugin_installed_since(install_plugin, monkeypatch):
    import importlib.metadata

    from nasbook import _plugins
    from nasbook.strategies import strategy_class

    reads = []

    def counted(**kw):
        reads.append(kw.get("group"))
        return importlib.metadata.entry_points(**kw)

    monkeypatch.setattr(_plugins, "entry_points", counted)
    strategy_class("evolution")
    reads.clear()
    for _ in range(5):  # each look-up read every installed distribution's entry_points.txt (~3 ms)
        strategy_class("evolution")
        strategy_class("RandomSearch")
    assert reads == []
    # installed during the session (a folder put on sys.path): seen at the next look-up
    info = install_plugin("nb_cached_plugin", PLUGIN, {"nasbook.strategies": {"greedy": "nb_cached_plugin:Greedy"}})
    assert strategy_class("greedy").__module__ == "nb_cached_plugin"
    assert reads == ["nasbook.strategies"]
    # an entry point added by hand to an installed package (nothing else changed): found when looked up
    with open(info / "entry_points.txt", "a") as f:
        f.write("\n[nasbook.strategies]\ngreedier = nb_cached_plugin:Greedy\n")
    assert strategy_class("greedier").__name__ == "Greedy"
    # another package installed into a folder already on sys.path (its modification time changes): seen
    # even by a look-up of a built-in's name (an entry point that reuses it warns)
    other = info.parent / "nb_second_plugin-0.1.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: nb-second-plugin\nVersion: 0.1\n")
    (other / "entry_points.txt").write_text("[nasbook.strategies]\nevolution = nb_cached_plugin:Greedy\n")
    with pytest.warns(nasbook.NasbookWarning, match=r"'evolution' = 'nb_cached_plugin:Greedy'.*is ignored"):
        assert strategy_class("evolution").__name__ == "RegularizedEvolution"
