"""Files nasbook did not write in this process (a teammate's knowledge base, a downloaded .db, a table or a
checkpoint from elsewhere) cannot make it run code, and a damaged one is refused with a clear error.

Each attack is harmless: its payload would write a marker file. The tests assert that the marker is
never written, and that the error names what was refused; those marked *before* record what the
attack did before the fix of the same commit.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import sqlite3
import sys
import textwrap

import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook._errors import InvalidParameterError, NasbookError, StorageError
from nasbook.tasks import NasBenchGraph


@pytest.fixture
def marker(tmp_path):
    """A path the payloads would create; asserted absent after each attack."""
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "an attack ran code"


@pytest.fixture
def evil_module(tmp_path, monkeypatch, marker):
    """An importable module that writes the marker when imported, and defines a strategy and a space."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "nasbook_evil_plugin.py").write_text(textwrap.dedent(f"""
        open({str(marker)!r}, "w").close()
        from nasbook.strategies import RandomSearch
        from nasbook.space import ChainSpace
        class EvilStrategy(RandomSearch):
            pass
        class EvilSpace(ChainSpace):
            pass
    """))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "nasbook_evil_plugin", raising=False)
    return "nasbook_evil_plugin"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small finished search on a NAS-Bench-Graph table (every part rebuildable), with a BO surrogate."""
    path = tmp_path_factory.mktemp("stored") / "search.db"
    nasbook.Search(NasBenchGraph("cora"), strategy="bo", budget=3, seed=100, storage=str(path), name="s").run(progress="none")
    return path


def _crafted(stored, tmp_path, edit):
    """A copy of ``stored`` whose search configuration ``edit`` changed, as someone could hand-edit it."""
    path = tmp_path / "shared.db"
    shutil.copy(stored, path)
    con = sqlite3.connect(path)
    (text,) = con.execute("SELECT config FROM nasbook_searches WHERE name = 's'").fetchone()
    config = json.loads(text)
    edit(config)
    con.execute("UPDATE nasbook_searches SET config = ? WHERE name = 's'", (json.dumps(config),))
    con.commit()
    con.close()
    return path


_NAMES = ["os.system", "builtins.eval", "subprocess:Popen", "{mod}.EvilStrategy", "{mod}:EvilSpace", "{mod}"]
_PARTS = {
    "strategy": lambda c, n: c.__setitem__("strategy", {"class": n, "alias": n, "params": {}}),
    "space": lambda c, n: c.__setitem__("space", {"class": n, "params": {}}),
    "task": lambda c, n: c.__setitem__("task", {"class": n, "params": {}}),
    "bo-surrogate": lambda c, n: c["strategy"]["params"].__setitem__("predictor", {"predictor": n, "params": {}}),
    "subset-parent": lambda c, n: c.__setitem__("space", {"class": "SubsetSpace", "params": {"space": {"class": n, "params": {}},
                                                                                             "archs": []}}),
}


@pytest.mark.parametrize("part", sorted(_PARTS))
@pytest.mark.parametrize("name", _NAMES)
def test_a_stored_class_name_never_imports_or_calls_anything(stored, tmp_path, evil_module, marker, part, name):
    # load_search resolves a stored class name among nasbook's classes, those registered in this
    # process and installed entry points only: never by importing the module a name spells out
    name = name.format(mod=evil_module)
    path = _crafted(stored, tmp_path, lambda c: _PARTS[part](c, name))
    if part in ("strategy", "bo-surrogate", "task"):  # loads read-only (neither is needed to read it)
        search = nasbook.load_search("s", str(path))
        assert not search.resumable and search.n_trials == 3
        with pytest.raises(InvalidParameterError, match="is read-only") as info:
            search.run(progress="none")
        search.close()
    else:
        with pytest.raises(InvalidParameterError, match="cannot rebuild|not a built-in space") as info:
            nasbook.load_search("s", str(path))
    assert name.split(".")[-1].split(":")[-1] in str(info.value)
    assert evil_module not in sys.modules


def test_a_registered_plugin_of_the_user_still_resumes(tmp_path):
    # the legitimate flow the restriction keeps: a class of one's own, registered in this process
    from nasbook.strategies import RandomSearch

    class MyOwnStrategy(RandomSearch):
        pass

    nasbook.strategies.register(MyOwnStrategy, name="my-own-security-test")
    try:
        path = str(tmp_path / "mine.db")
        nasbook.Search(NasBenchGraph("cora"), strategy="my-own-security-test", budget=2, seed=100, storage=path,
                       name="mine").run(progress="none")
        again = nasbook.load_search("mine", path, budget=3)
        assert type(again.strategy) is MyOwnStrategy
        again.run(progress="none")
        assert again.n_trials == 3
    finally:
        nasbook.strategies.unregister(MyOwnStrategy)


def test_a_damaged_search_state_is_a_clear_error(stored, tmp_path):
    # before: ValueError: 'hacked' is not a valid SearchState
    path = _crafted(stored, tmp_path, lambda c: None)
    con = sqlite3.connect(path)
    con.execute("UPDATE nasbook_searches SET state = 'hacked' WHERE name = 's'")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match=r"search 's' .* is damaged: its state 'hacked' is not one of \['created', 'done'"):
        nasbook.load_search("s", str(path))


@pytest.mark.parametrize("provenance", [{"searches": "x"}, {"searches": {"a": "zz"}}, {}])
def test_a_damaged_transfer_prior_record_is_a_clear_error(stored, tmp_path, provenance):
    # before: AttributeError, ValueError or KeyError from inside load_search(..., kb=...)
    path = _crafted(stored, tmp_path, lambda c: c["strategy"]["params"].__setitem__("prior", {"kb": provenance}))
    with pytest.raises(StorageError, match="the stored transfer prior of this BO is damaged"):
        nasbook.load_search("s", str(path), kb=KnowledgeBase(":memory:"))


# -- a knowledge base shared as Parquet -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    kb = KnowledgeBase(str(folder / "theirs.db"))
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=100, kb=kb, name="theirs").run(progress="none")
    return kb.export(folder / "kb.parquet")


def _rewrite(export, tmp_path, meta_edit=None, rows_edit=None, schema_edit=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(export)
    meta = json.loads(table.schema.metadata[b"nasbook"])
    rows = table.to_pylist()
    schema = table.schema
    if meta_edit:
        meta_edit(meta)
    if rows_edit:
        rows_edit(rows)
    if schema_edit:
        schema = schema_edit(schema)
    path = tmp_path / "crafted.parquet"
    schema = schema.with_metadata({b"nasbook": json.dumps(meta).encode()})
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


@pytest.fixture
def mine(tmp_path):
    kb = KnowledgeBase(str(tmp_path / "mine.db"))
    nasbook.Search(NasBenchGraph("citeseer"), strategy="random", budget=3, seed=101, kb=kb, name="mine").run(progress="none")
    return kb


def _set_all(column, value):
    return lambda rows: [row.__setitem__(column, value) for row in rows]


def _as_text(column):
    import pyarrow as pa

    return lambda schema: schema.set(schema.get_field_index(column), pa.field(column, pa.string()))


_DAMAGED = {  # what the file holds -> what the error says. Before: each was imported, and the first four then
    # broke kb.trials() for every search (arch) or load_search of the import, with no way back but deleting it
    "arch not JSON": ({"rows_edit": _set_all("arch", "{not json")}, "arch is not valid JSON"),
    "an unknown state": ({"rows_edit": _set_all("state", "hacked")}, "state 'hacked' is not one of"),
    "metrics a list": ({"rows_edit": _set_all("metrics", "[1, 2]")}, "metrics should be a JSON object"),
    "lineage of text": ({"rows_edit": _set_all("lineage", '["x"]')}, "lineage should list trial numbers"),
    # before: a bare TypeError from the database layer, half-way through the import (then undone)
    "value as text": ({"rows_edit": _set_all("value", "0.99"), "schema_edit": _as_text("value")}, "value should be a number"),
    # before: the second row was dropped without a word
    "a trial twice": ({"rows_edit": lambda rows: rows[1].__setitem__("number", rows[0]["number"])}, "appears twice"),
    # before: stored as given, a task whose configuration is a string and meta-features a number
    "a junk task entry": ({"meta_edit": lambda m: m["tasks"].append({"key": "k", "name": "t", "config": "os.system",
                                                                     "meta_features": 5, "landmarks": None})},
                          "a task entry is"),
    "landmarks of text": ({"meta_edit": lambda m: m["tasks"][0].__setitem__("landmarks", {"a": "high"})},
                          "landmarks of task .* are not all numbers"),
    "a junk space entry": ({"meta_edit": lambda m: m["spaces"].append({"space_id": "x", "config": "os.system"})},
                           "a space entry is"),
    # before: float("fast") failed half-way through the import (then undone), a bare ValueError
    "elapsed_s of text": ({"meta_edit": lambda m: m["searches"][0].__setitem__("elapsed_s", "fast")}, "a search entry is"),
}


@pytest.mark.parametrize("case", sorted(_DAMAGED))
def test_a_damaged_parquet_import_is_refused_and_changes_nothing(export, tmp_path, mine, case):
    edits, says = _DAMAGED[case]
    path = _rewrite(export, tmp_path, **edits)
    searches, trials, tasks = mine.searches, mine.trials(states=None), mine.tasks
    with pytest.raises(StorageError, match=f"damaged knowledge-base export: .*{says}.*Nothing was imported"):
        mine.import_parquet(path, prefix="shared/")
    assert mine.searches.equals(searches) and mine.trials(states=None).equals(trials) and mine.tasks.equals(tasks)
    assert nasbook.load_search("mine", kb=mine).n_trials == 3


def test_a_clean_export_still_imports(export, mine):
    assert mine.import_parquet(export, prefix="shared/") == ["shared/theirs"]
    assert len(mine.trials(search="shared/theirs")) == 3
    assert nasbook.load_search("shared/theirs", kb=mine).n_trials == 3


def test_a_space_class_named_in_a_parquet_file_is_never_imported(export, tmp_path, mine, evil_module, marker):
    def edit(meta):
        meta["spaces"][0].update(space_id="chain-evil", config={"class": f"{evil_module}.EvilSpace", "params": {}})
        meta["searches"][0]["config"]["space_id"] = "chain-evil"

    mine.import_parquet(_rewrite(export, tmp_path, meta_edit=edit), prefix="shared/")
    with pytest.raises(NasbookError, match="a class nasbook cannot rebuild"):
        mine.space("chain-evil")
    assert evil_module not in sys.modules


# -- pickles: checkpoints, curve tables, NAS-Bench-Graph tables ----------------------------------------------------
class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_with_a_pickled_object_is_refused_not_run(marker):
    import torch

    from nasbook.training import load_checkpoint
    from nasbook.training._train import CHECKPOINT_FORMAT

    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "weights": _Payload(marker)}, buf)
    with pytest.raises(InvalidParameterError, match="not a nasbook checkpoint .*weights_only=True"):
        load_checkpoint(buf.getvalue())


def test_a_curve_table_with_a_pickled_array_is_refused_not_run(tmp_path, marker):
    # before: numpy's bare ValueError ("Object arrays cannot be loaded..."), naming no file
    from importlib import resources

    import numpy as np

    from nasbook.tasks import DigitsTable

    shipped = resources.files("nasbook._data")
    with np.load(io.BytesIO((shipped / "digits_cells.npz").read_bytes())) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["flops"] = np.array([_Payload(marker)], dtype=object)
    np.savez(tmp_path / "table.npz", **arrays)
    (tmp_path / "table.json").write_text((shipped / "digits_cells.json").read_text())
    with pytest.raises(InvalidParameterError, match=r"curve table: '.*table\.npz' was refused .*never unpickles"):
        DigitsTable(path=str(tmp_path / "table"))


def test_a_nas_bench_graph_table_with_a_payload_is_refused_not_run(marker):
    from nasbook.tasks._nbg import load_table_bytes

    with pytest.raises(pickle.UnpicklingError, match="refusing global"):
        load_table_bytes(pickle.dumps({1: _Payload(marker)}))


# -- what a storage file's text can do to a terminal or a notebook ----------------------------------------------------
def test_nasbook_list_escapes_control_characters_of_a_stored_name(stored, tmp_path, capsys):
    # before: the escape sequences reached the terminal as they were (retitle, erase the line, reverse the text)
    from nasbook.cli import main

    evil = "ok\x1b]0;PWNED\x07\x1b[2K\u202eX"
    path = _crafted(stored, tmp_path, lambda c: None)
    con = sqlite3.connect(path)
    con.execute("UPDATE nasbook_searches SET name = ? WHERE name = 's'", (evil,))
    con.commit()
    con.close()
    for argv in (["list", "--storage", str(path)], ["show", evil, "--storage", str(path)],
                 ["show", "no\x1b[31m", "--storage", str(path)]):
        main(argv)
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "\u202e" not in out + err and "\x07" not in out + err
        assert "ok\\x1b]0;PWNED\\x07\\x1b[2K\\u202eX" in out + err


def test_a_stored_name_is_escaped_in_the_notebook_view(stored, tmp_path):
    path = _crafted(stored, tmp_path, lambda c: None)
    con = sqlite3.connect(path)
    con.execute("UPDATE nasbook_searches SET name = ? WHERE name = 's'", ("<script>alert(1)</script>",))
    con.commit()
    con.close()
    html = nasbook.load_search("<script>alert(1)</script>", str(path))._repr_mimebundle_()["text/html"]
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_stray_file_in_a_checkpoint_folder_is_not_a_checkpoint(tmp_path):
    # before: ValueError: invalid literal for int() with base 10: '3 (1)', on every resume of that search
    from nasbook.search._checkpoints import CheckpointDir

    store = CheckpointDir(tmp_path)
    store[3] = b"a"
    store[10] = b"b"
    for stray in ("trial-3 (1).ckpt", "trial-x.ckpt", "trial-03.ckpt", "trial-.ckpt"):
        (tmp_path / stray).write_bytes(b"?")
    assert list(store) == [3, 10] and len(store) == 2


def test_dependencies_exclude_the_versions_that_run_a_crafted_file():
    # torch < 2.6: torch.load(weights_only=True) can still run code (CVE-2025-32434);
    # pyarrow <= 14.0.0: reading a Parquet file can unpickle (CVE-2023-47248). Before: torch>=2.3, pyarrow>=14
    import pathlib

    from packaging.requirements import Requirement

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    pyproject = pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml"
    deps = {r.name: r.specifier for r in map(Requirement, tomllib.loads(pyproject.read_text())["project"]["dependencies"])}
    assert not deps["torch"].contains("2.5.1") and deps["torch"].contains("2.6.0")
    assert not deps["pyarrow"].contains("14.0.0") and deps["pyarrow"].contains("14.0.1")


@pytest.mark.parametrize("entry", ["folder-missing", "relative", {"folder": 3, "key": "0" * 32}, "just text",
                                   {"folder": "/tmp", "key": "../../etc"}])
def test_a_stored_checkpoint_folder_is_never_created_and_a_damaged_one_never_crashes(stored, tmp_path, entry,
                                                                                     monkeypatch):
    """``config["checkpoints"]`` names a folder (``Search(checkpoints=...)``): a store from someone else decides it.
    A folder missing here with no parent here either is not created (its session would keep checkpoints in a
    temporary folder; only a deleted folder whose parent is still there is made again), a damaged entry is ignored."""
    target = tmp_path / "elsewhere" / "ck"
    value = ({"folder": str(target), "key": "a" * 32} if entry == "folder-missing" else
             {"folder": "rel/ck", "key": "a" * 32} if entry == "relative" else entry)
    path = _crafted(stored, tmp_path, lambda c: c.update(checkpoints=value))
    monkeypatch.chdir(tmp_path)
    s = nasbook.load_search("s", str(path), budget=4)
    assert s.run(progress="none").n_trials == 4
    assert s._ckpt is None or not s._ckpt.usable
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "rel").exists()
    s.close()
