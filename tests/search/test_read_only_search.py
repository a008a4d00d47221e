"""A stored search whose strategy nasbook cannot rebuild loads read-only: it reads as the original search did,
says it is read-only (why, and how to resume it), and refuses to run or be extended without writing anything.

Before, ``load_search`` refused such a search outright ("which nasbook cannot rebuild ... pass strategy=..."), so
a colleague's ``.db`` or a report reading a finished search could not use its results, reprs or plots."""
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import nasbook
from nasbook.display import repr_mimebundle
from nasbook.search import SearchNotResumableError, UnrebuiltStrategy
from nasbook.space import GraphSpace
from nasbook.strategies import Portfolio, RandomSearch
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=("gcn", "sage", "fc", "skip"))


class Mine(RandomSearch):  # a researcher's strategy, never registered
    pass


class MyArm(RandomSearch):  # an arm of a researcher's Portfolio, never registered
    pass


def _tpe():
    optuna = pytest.importorskip("optuna")
    from nasbook.strategies import OptunaSampler

    return OptunaSampler(optuna.samplers.TPESampler(seed=1))


#: kind -> (a fresh strategy of that kind, what the read-only search says about why, whether registering the class helps)
KINDS = {
    "user-class": (Mine, "its strategy class 'Mine' is not registered in this process", True),
    "optuna-instance": (_tpe, "its strategy OptunaSampler cannot be rebuilt from the stored configuration", False),
    "portfolio-user-arm": (lambda: Portfolio([MyArm(), "evolution"]),
                           "its strategy Portfolio cannot be rebuilt from the stored configuration", False),
}


def _state(path):
    """The file as bytes (digest), the files beside it, and its tables read without writing (immutable)."""
    path = Path(path)
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        tables = [sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in ("nasbook_searches", "nasbook_trials")]
    finally:
        con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir()), tables


@pytest.fixture(params=sorted(KINDS))
def stored(request, tmp_path):
    """A finished search of each kind, its file closed; the original Search object kept to compare with."""
    make, why, registrable = KINDS[request.param]
    task = ToyTask(SPACE, fail_ids=())
    path = tmp_path / "shared.db"
    original = nasbook.Search(SPACE, task, strategy=make(), budget=5, seed=3, storage=path, name="s").run(progress="none")
    original.close()
    return original, path, task, make, why, registrable


def test_unrebuilt_strategy_is_public_where_load_search_is(stored):
    # what load_search puts in a strategy's place is tested for with isinstance: before, only the private
    # nasbook.search._readonly held it
    from nasbook.search import _readonly

    assert nasbook.search.UnrebuiltStrategy is _readonly.UnrebuiltStrategy and "UnrebuiltStrategy" in nasbook.search.__all__
    assert issubclass(UnrebuiltStrategy, nasbook.strategies.BaseStrategy)
    original, path, task, *_ = stored
    loaded = nasbook.load_search("s", path, task=task)
    assert isinstance(loaded.strategy, UnrebuiltStrategy) and not isinstance(original.strategy, UnrebuiltStrategy)
    assert type(loaded.strategy).__name__ == type(original.strategy).__name__  # named after the stored class
    loaded.close()


def test_it_loads_and_reads_as_the_original_search(stored):
    original, path, task, _, why, _ = stored
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading is not a cause for a warning
        loaded = nasbook.load_search("s", path, task=task)
    assert original.resumable and not loaded.resumable
    assert loaded.trials == original.trials and loaded.best == original.best
    assert (loaded.state, loaded.budget, loaded.seed, loaded.n_trials) == (original.state, original.budget, 3, 5)
    pd.testing.assert_frame_equal(loaded.to_dataframe(), original.to_dataframe())
    ours, theirs = loaded.to_xarray(), original.to_xarray()
    xr.testing.assert_identical(ours.drop_attrs(), theirs.drop_attrs())
    # every attr but the strategy's repr, which shows the stored parameters (an Optuna sampler as stored, not the instance)
    assert {k: v for k, v in ours.attrs.items() if k != "strategy"} == {k: v for k, v in theirs.attrs.items() if k != "strategy"}
    assert ours.attrs["strategy"].startswith(type(original.strategy).__name__ + "(")
    assert loaded.strategy.to_config() == json.loads(json.dumps(original.strategy.to_config()))
    assert (loaded.strategy.alias, type(loaded.strategy).__name__) == (original.strategy.alias, type(original.strategy).__name__)
    pytest.importorskip("holoviews")
    from nasbook import viz

    assert viz.plot_history(loaded) is not None and viz.plot_op_frequency(loaded) is not None
    loaded.close()


def test_its_reprs_say_it_is_read_only_why_and_how_to_resume_it(stored):
    _, path, task, _, why, registrable = stored
    loaded = nasbook.load_search("s", path, task=task)
    fix = f"nasbook.load_search('s', {str(path)!r}, strategy=...)"
    bundle = repr_mimebundle(loaded)
    for text in (repr(loaded), bundle["text/plain"], bundle["text/html"].replace("&#x27;", "'")):
        assert "read-only" in text and why in text and fix in text, text
        assert ("nasbook.strategies.register(Mine)" in text) is registrable
    assert "run() seeds it" not in bundle["text/plain"]  # it never runs
    assert repr(loaded).startswith("<Search 's' done: 5 of 5 trials, ")
    loaded.close()


def test_run_extend_start_and_a_new_budget_are_refused_and_change_nothing_stored(stored):
    _, path, task, _, why, registrable = stored
    before = _state(path)
    loaded = nasbook.load_search("s", path, task=task)
    calls = {"run()": lambda: loaded.run(progress="none"), "extend()": lambda: loaded.extend(3),
             "start()": lambda: loaded.start(progress="none"),
             "load_search('s', budget=...)": lambda: nasbook.load_search("s", path, task=task, budget=8),
             "load_search('s', allow_changes=True with another task)":
                 lambda: nasbook.load_search("s", path, task=ToyTask(SPACE, seed=9), allow_changes=True)}
    for what, call in calls.items():
        with pytest.raises(SearchNotResumableError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"{what}: search 's' is read-only: {why}, so it cannot propose trials; nothing was run "
                                  f"or stored. To resume it: nasbook.load_search('s', {str(path)!r}, strategy=...)"), message
        assert ("nasbook.strategies.register(Mine)" in message) is registrable
        assert isinstance(info.value, nasbook.InvalidParameterError)  # as the refusal at load was
    with pytest.raises(SearchNotResumableError, match="cannot propose"):
        loaded.strategy.ask()
    assert loaded.n_trials == 5 and loaded.budget.trials == 5 and loaded._thread is None
    loaded.close()
    assert _state(path) == before  # the bytes, the files beside it and every row


def test_the_fix_it_names_resumes_it(stored):
    original, path, task, make, _, registrable = stored
    resumed = nasbook.load_search("s", path, task=task, strategy=make(), budget=7)  # the strategy passed again
    assert resumed.resumable and "read-only" not in repr(resumed)
    assert resumed.run(progress="none").n_trials == 7
    resumed.close()
    if registrable:  # or its class registered first
        nasbook.strategies.register(Mine)
        try:
            again = nasbook.load_search("s", path, task=task)
            assert again.resumable and type(again.strategy) is Mine
            assert again.extend(1).run(progress="none").n_trials == 8
            again.close()
        finally:
            nasbook.strategies.unregister(Mine)


def test_a_built_in_is_not_advised_to_be_registered_and_a_portfolio_arm_keeps_its_hint(tmp_path):
    # outside probe 2: the refusal ended "or register the class first: nasbook.strategies.register(OptunaSampler)",
    # which register() itself refuses (a built-in's name); the same for a Portfolio with an arm of the user's
    task = ToyTask(SPACE, fail_ids=())
    db = tmp_path / "r.db"
    for name, strategy in (("tpe", _tpe()), ("pf", Portfolio([MyArm(), "evolution"]))):
        nasbook.Search(SPACE, task, strategy=strategy, budget=3, seed=1, storage=db, name=name).run(progress="none").close()
        loaded = nasbook.load_search(name, db, task=task)
        with pytest.raises(SearchNotResumableError) as info:
            loaded.run(progress="none")
        assert f"register({type(strategy).__name__})" not in str(info.value)
        assert f"register({type(strategy).__name__})" not in repr(loaded)
        loaded.close()
    with pytest.raises(SearchNotResumableError, match=r"Why nasbook could not rebuild it: Unknown strategy 'MyArm'.*"
                                                      r"register\(MyStrategy\)"):
        nasbook.load_search("pf", db, task=task).run(progress="none")  # the arm's own hint stays
    with pytest.raises(SearchNotResumableError, match=r"ran with an Optuna sampler instance.*pass the same sampler again"):
        nasbook.load_search("tpe", db, task=task).extend(2)


def test_a_plain_load_and_its_reads_write_nothing_either(tmp_path):
    # the same promise for a search that can resume: load_search without a budget, and reading it, change no byte
    path = tmp_path / "plain.db"
    task = ToyTask(SPACE, fail_ids=())
    nasbook.Search(SPACE, task, strategy="evolution", budget=4, seed=0, storage=path, name="p").run(progress="none").close()
    before = _state(path)
    loaded = nasbook.load_search("p", path, task=task)
    assert loaded.resumable
    repr(loaded), repr_mimebundle(loaded), loaded.to_dataframe(), loaded.to_xarray()
    loaded.close()
    assert _state(path) == before


def test_a_knowledge_base_given_records_nothing_of_a_read_only_search(tmp_path):
    # load_search(..., kb=kb) links a resumable search to the kb (its task, a mirror of its trials); a read-only
    # one will commit no trial, so nothing of it is written there either
    task = ToyTask(SPACE, fail_ids=())
    path, kb_path = tmp_path / "runs.db", tmp_path / "kb.db"
    nasbook.Search(SPACE, task, strategy=Mine(), budget=3, seed=0, storage=path, name="m").run(progress="none").close()
    kb = nasbook.KnowledgeBase(kb_path)
    kb.storage.close()
    before, kb_before = _state(path), _state(kb_path)
    loaded = nasbook.load_search("m", path, task=task, kb=kb)
    assert not loaded.resumable and loaded.n_trials == 3
    loaded.close()
    kb.storage.close()
    assert (_state(path), _state(kb_path)) == (before, kb_before)
    resumable = nasbook.load_search("m", path, task=task, kb=kb, strategy=Mine())  # linked: its trials mirrored there
    assert len(kb.trials(search="m")) == 3
    resumable.close()


CHILD = textwrap.dedent("""
    import json, sys
    import nasbook
    search = nasbook.load_search("theirs", sys.argv[1])  # nothing passed: a file received from a colleague
    try:
        search.run(progress="none")
    except nasbook.search.SearchNotResumableError as exc:
        refused = str(exc)
    search.close()
    print(json.dumps({"repr": repr(search), "resumable": search.resumable, "refused": refused,
                      "frame": search.to_dataframe().drop(columns=["arch"]).to_json(), "best": search.best.arch.id}))
""")


def test_a_colleagues_file_reads_in_a_fresh_process(tmp_path):
    # the strategy class exists in the process that ran the search (here), in none that reads the file
    from nasbook.tasks import NasBenchGraph

    path = tmp_path / "theirs.db"
    original = nasbook.Search(NasBenchGraph("cora"), strategy=Mine(), budget=6, seed=4, storage=path, name="theirs")
    original.run(progress="none").close()
    before = _state(path)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(nasbook.__file__).parents[1])})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["resumable"] is False and out["best"] == original.best.arch.id
    assert "read-only: its strategy class 'Mine' is not registered in this process" in out["repr"]
    assert "nasbook.strategies.register(Mine)" in out["refused"] and "nothing was run or stored" in out["refused"]
    expected = original.to_dataframe().drop(columns=["arch"]).to_json()
    pd.testing.assert_frame_equal(pd.read_json(io.StringIO(out["frame"])), pd.read_json(io.StringIO(expected)))
    assert _state(path) == before
