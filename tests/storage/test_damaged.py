"""Crafted or damaged stores give a StorageError naming the search and trial, never a bare Python error."""

import sqlite3

import numpy as np
import pytest

from nasbook._errors import StorageError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import Storage
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


@pytest.fixture
def store(tmp_path):
    """A file holding search 'runs' with trials 0..2; yields (path, search id)."""
    path = tmp_path / "s.db"
    st = Storage(path)
    sid = st.create_search("runs", {"space": {}, "mode": "max"})
    for n in range(3):
        st.add_trial(sid, Trial(n, SPACE.sample(np.random.default_rng(n)), TrialState.COMPLETE, 0.5, metrics={"a": 1.0}))
    st.close()
    return path, sid


def _sql(path, stmt, *params):
    with sqlite3.connect(path) as con:
        con.execute(stmt, params)


def _load_error(path, sid):
    st = Storage(path, create=False)
    try:
        with pytest.raises(StorageError) as info:
            st.load_trials(sid, SPACE)
    finally:
        st.close()
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained raw error
    return str(info.value)


def test_json_nested_200k_deep(store):
    path, sid = store
    _sql(path, "UPDATE nasbook_trials SET metrics = ? WHERE number = 1", "[" * 200_000 + "]" * 200_000)
    msg = _load_error(path, sid)
    assert "trial 1 of search 'runs'" in msg and "metrics is JSON nested too deeply" in msg


@pytest.mark.parametrize(
    ("column", "stored", "says"),
    [
        ("metrics", "{not json", "metrics is not valid JSON"),
        ("metrics", "[1, 2]", "metrics should be a JSON object, got list"),
        ("attrs", '"text"', "attrs should be a JSON object, got str"),
        ("curves", '{"acc": 3}', "curve 'acc' should be a list"),
        ("lineage", '{"a": 1}', "lineage should be a JSON list"),
        ("lineage", '["x"]', "lineage should list trial numbers"),
        ("arch", '{"link": [9, 9], "ops": []}', "holds an architecture outside its space"),
        ("arch_id", "12345", "stored id"),
        ("value", "abc", "value should be a number, got str 'abc'"),
        ("state", "garbage", "state 'garbage' is not one of"),
        ("epochs", "many", "epochs should be an integer"),
        ("started_at", "noon", "started_at should be a number"),
        ("metrics", b"\x00\xff", "metrics is not valid JSON"),
    ],
)
def test_a_damaged_trial_column(store, column, stored, says):
    path, sid = store
    _sql(path, f"UPDATE nasbook_trials SET {column} = ? WHERE number = 2", stored)
    msg = _load_error(path, sid)
    assert "trial 2 of search 'runs'" in msg and says in msg, msg


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ('["a", "list"]', "configuration should be a JSON object, got list"),
        ('"a string"', "configuration should be a JSON object, got str"),
        ("{broken", "configuration is not valid JSON"),
        ("[" * 200_000 + "]" * 200_000, "configuration is JSON nested too deeply"),
    ],
)
def test_a_damaged_search_config(store, stored, says):
    path, _ = store
    _sql(path, "UPDATE nasbook_searches SET config = ?", stored)
    st = Storage(path, create=False)
    for read in (lambda: st.get_search("runs"), st.list_searches):
        with pytest.raises(StorageError, match=r"search 'runs' in .* is damaged") as info:
            read()
        assert says in str(info.value) and info.value.__cause__ is None
    assert st.search_names() == ["runs"]  # the names still list
    st.close()


def test_a_config_missing_keys_names_the_key(store):
    path, _ = store
    rec = Storage(path, create=False).get_search("runs")
    assert rec.require("mode", str) == "max"
    with pytest.raises(StorageError, match=r"search 'runs' in .*damaged configuration: key 'strategy' is missing"):
        rec.require("strategy")
    with pytest.raises(StorageError, match=r"'mode' should be a int, got str 'max'"):
        rec.require("mode", int)


def test_a_damaged_search_row(store):
    path, _ = store
    _sql(path, "UPDATE nasbook_searches SET elapsed_s = 'long'")
    with pytest.raises(StorageError, match="elapsed_s should be a number"):
        Storage(path, create=False).get_search("runs")


def test_damaged_meta_or_missing_tables(tmp_path):
    path = tmp_path / "m.db"
    Storage(path).close()
    _sql(path, "DELETE FROM nasbook_meta WHERE key = 'magic'")
    with pytest.raises(StorageError, match="without nasbook's marker"):
        Storage(path)
    path2 = tmp_path / "t.db"
    Storage(path2).close()
    _sql(path2, "DROP TABLE nasbook_trials")
    with pytest.raises(StorageError, match=r"damaged: tables \['nasbook_trials'\] are missing"):
        Storage(path2)


def test_a_trial_value_json_cannot_hold_is_refused_by_name():
    st = Storage(":memory:")
    sid = st.create_search("s", {})
    arch = SPACE.sample(np.random.default_rng(0))
    with pytest.raises(StorageError, match="trial 4: its attrs cannot be stored as JSON"):
        st.add_trial(sid, Trial(4, arch, TrialState.COMPLETE, 1.0, attrs={"model": object()}))
    # numpy scalars and arrays are stored as their Python values
    st.add_trial(sid, Trial(5, arch, TrialState.COMPLETE, 1.0, metrics={"f": np.float32(0.5), "a": np.arange(3)}))
    assert st.load_trials(sid, SPACE)[0][0].metrics == {"f": 0.5, "a": [0, 1, 2]}
