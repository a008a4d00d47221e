"""A stored search whose TASK nasbook cannot rebuild (a class of the user's not importable now, a task holding data)
loads read-only with an :class:`UnrebuiltTask` in its place, as one whose strategy cannot be rebuilt does: it reads as
the original (trials, best, to_xarray, reprs), and running or extending it is refused, writing nothing.

Before, ``load_search`` refused it outright ("pass task=... to load_search"), so a colleague's ``.db`` could not even be
read without their code. Also here: ``load_search(..., checkpoints=...)`` on a read-only open is refused (it would
store a folder for a run that cannot happen), and a refused ``load_search`` closes the store it opened.
"""

import hashlib
import os
import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import nasbook
from nasbook.display import repr_mimebundle
from nasbook.search import UnrebuiltTask
from nasbook.space import GraphSpace
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=("gcn", "sage", "fc", "skip"))


class MyTask(ToyTask):  # a researcher's task, never registered (and, in a new process, not importable)
    metric = "val_f1"
    mode = "min"


class Mine(nasbook.strategies.RandomSearch):  # a researcher's strategy, never registered
    pass


def _state(path):
    path = Path(path)
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        rows = [sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in ("nasbook_searches", "nasbook_trials")]
    finally:
        con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir()), rows


@pytest.fixture
def stored(tmp_path):
    path = tmp_path / "shared.db"
    original = nasbook.Search(SPACE, MyTask(SPACE, fail_ids=()), budget=6, seed=3, storage=path,
                              name="s").run(progress="none")
    original.close()
    return original, path


def test_unrebuilt_task_is_public_where_load_search_is():
    # what load_search puts in a task's place is tested for with isinstance: before, only the private
    # nasbook.search._readonly held it
    from nasbook.search import _readonly

    assert nasbook.search.UnrebuiltTask is _readonly.UnrebuiltTask and "UnrebuiltTask" in nasbook.search.__all__
    assert issubclass(UnrebuiltTask, nasbook.tasks.Task)


def test_it_loads_read_only_and_reads_as_the_original(stored):
    original, path = stored
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading is not a cause for a warning
        loaded = nasbook.load_search("s", path)
    assert not loaded.resumable and original.resumable
    assert isinstance(loaded.task, UnrebuiltTask) and loaded.task.stored_class == "MyTask"
    assert (loaded.task.name, loaded.metric, loaded.mode) == (original.task.name, "val_f1", "min")
    assert loaded.task.to_config() == original.task.to_config()
    assert "MyTask" in repr(loaded.task) and "not registered" in repr(loaded.task)
    assert loaded.trials == original.trials and loaded.best == original.best
    pd.testing.assert_frame_equal(loaded.to_dataframe(), original.to_dataframe())
    ours, theirs = loaded.to_xarray(), original.to_xarray()
    xr.testing.assert_identical(ours.drop_attrs(), theirs.drop_attrs())
    assert {k: v for k, v in ours.attrs.items() if k != "task"} == {k: v for k, v in theirs.attrs.items() if k != "task"}
    assert ours.attrs["task"].startswith(f"UnrebuiltTask(stored {theirs.attrs['task']}: its task class 'MyTask'")
    fix = f"nasbook.load_search('s', {str(path)!r}, task=...)"
    bundle = repr_mimebundle(loaded)
    for text in (repr(loaded), bundle["text/plain"], bundle["text/html"].replace("&#x27;", "'")):
        assert "read-only" in text and "its task class 'MyTask' is not registered" in text and fix in text, text
        assert "nasbook.tasks.register(MyTask)" in text
    loaded.close()


def test_running_or_extending_it_is_refused_and_changes_nothing(stored):
    _, path = stored
    before = _state(path)
    loaded = nasbook.load_search("s", path)
    for what, call in {"run()": lambda: loaded.run(progress="none"), "extend()": lambda: loaded.extend(3),
                       "start()": lambda: loaded.start(progress="none"),
                       "load_search('s', budget=...)": lambda: nasbook.load_search("s", path, budget=9)}.items():
        with pytest.raises(nasbook.SearchNotResumableError) as info:
            call()
        assert str(info.value).startswith(
            f"{what}: search 's' is read-only: its task class 'MyTask' is not registered in this process, so it cannot "
            f"evaluate trials; nothing was run or stored. To resume it: nasbook.load_search('s', {str(path)!r}, task=...)")
    with pytest.raises(nasbook.SearchNotResumableError, match="cannot evaluate"):
        loaded.task.evaluate(loaded.trials[0].arch)
    loaded.close()
    assert _state(path) == before
    resumed = nasbook.load_search("s", path, task=MyTask(SPACE, fail_ids=()), budget=8).run(progress="none")
    assert resumed.resumable and resumed.n_trials == 8  # the fix it names resumes it
    resumed.close()


def test_a_task_and_a_strategy_both_not_rebuilt_name_the_task_first(tmp_path):
    path = tmp_path / "both.db"
    nasbook.Search(SPACE, MyTask(SPACE, fail_ids=()), strategy=Mine(), budget=3, seed=0, storage=path,
                   name="b").run(progress="none").close()
    loaded = nasbook.load_search("b", path)
    assert isinstance(loaded.task, UnrebuiltTask) and type(loaded.strategy).__name__ == "Mine"
    assert loaded.n_trials == 3 and "task=..." in repr(loaded)
    loaded.close()
    given_task = nasbook.load_search("b", path, task=MyTask(SPACE, fail_ids=()))  # then the strategy is what is missing
    assert not given_task.resumable and "strategy=..." in repr(given_task)
    given_task.close()


def test_the_error_is_public_at_the_top_and_at_its_old_path():
    assert nasbook.SearchNotResumableError is nasbook.search.SearchNotResumableError
    from nasbook._errors import SearchNotResumableError

    assert SearchNotResumableError is nasbook.SearchNotResumableError
    assert "SearchNotResumableError" in nasbook.__all__
    assert issubclass(SearchNotResumableError, nasbook.InvalidParameterError)


@pytest.mark.parametrize("kind", ["task", "strategy"])
def test_checkpoints_on_a_read_only_open_is_refused_and_nothing_is_stored(kind, tmp_path):
    path = tmp_path / "r.db"
    task = MyTask(SPACE, fail_ids=())
    nasbook.Search(SPACE, task, strategy=Mine() if kind == "strategy" else "random", budget=3, seed=0, storage=path,
                   name="r").run(progress="none").close()
    before = _state(path)
    kw = {"task": task} if kind == "strategy" else {}
    with pytest.raises(nasbook.SearchNotResumableError, match=r"^load_search\('r', checkpoints=\.\.\.\): search 'r' is "
                       rf"read-only: its {kind} class"):
        nasbook.load_search("r", path, checkpoints=tmp_path / "ck", **kw)
    assert _state(path) == before and not (tmp_path / "ck").exists()
    with pytest.raises(nasbook.InvalidParameterError, match=r"load_search\(checkpoints=\.\.\.\) must be a folder path"):
        nasbook.load_search("r", path, checkpoints=3, **kw)  # a bad value is named as such first


def _open_fds(path):
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_a_refused_load_search_closes_the_store_it_opened(tmp_path):
    path = tmp_path / "c.db"
    task = MyTask(SPACE, fail_ids=())
    nasbook.Search(SPACE, task, strategy=Mine(), budget=3, seed=0, storage=path, name="c").run(progress="none").close()
    nasbook.Search(SPACE, task, budget=3, seed=0, storage=path, name="ok").run(progress="none").close()
    assert _open_fds(path) == []
    refusals = {
        "no such search": (lambda: nasbook.load_search("nope", path), nasbook.StorageError),
        "budget on a read-only search": (lambda: nasbook.load_search("c", path, task=task, budget=9),
                                         nasbook.SearchNotResumableError),
        "checkpoints on a read-only search": (lambda: nasbook.load_search("c", path, checkpoints=tmp_path),
                                              nasbook.SearchNotResumableError),
        "another space": (lambda: nasbook.load_search("ok", path, task=task, space=GraphSpace(ops=("gcn", "fc"))),
                          nasbook.InvalidParameterError),
        "a budget under what was spent": (lambda: nasbook.load_search("ok", path, task=task, budget=1),
                                          nasbook.InvalidParameterError),
    }
    for what, (call, kind) in refusals.items():
        with pytest.raises(kind) as info:  # the traceback (kept here) holds the store: it must be closed anyway
            call()
        assert _open_fds(path) == [], what
        assert not Path(f"{path}-wal").exists(), what
        del info
