"""A task stored before run-only Lightning options left its key is the same task as that task stored now.

Searches stored by the first version of ``trainer=`` (before ``run_params``) hold run-only options such as
``benchmark`` in ``config["task"]["params"]["trainer"]``, and the store filed them (the search's ``task_key``
column, its ``nasbook_tasks`` row, its warm-start aggregates) under a key that hashed them. Such a store is
built here as that code left it: the search written through the knowledge base's API with the old-form
configuration, then its key columns set to the key the older code computed (a hash of the whole
configuration), and the schema version set back to 5. Opening it migrates it (schema 6): one task.
"""

import copy
import hashlib
import json
import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa
from _kb_samples import SPACE, archs, rows

import nasbook
from nasbook.knowledge import select_warm_start
from nasbook.storage import SCHEMA_VERSION, TABLES, task_key
from nasbook.tasks import Digits


class _AsStored:
    """A task whose configuration is exactly ``config`` (what a search stored)."""

    def __init__(self, config, name):
        self.config, self.name, self.metric, self.mode = config, name, config["metric"], config["mode"]

    def to_config(self):
        return copy.deepcopy(self.config)


def _configs():
    base = Digits(max_epochs=3).to_config()
    old = copy.deepcopy(base)
    old["params"]["trainer"] = {"benchmark": True, "gradient_clip_val": 1.0}
    new = copy.deepcopy(base)
    new["params"]["trainer"] = {"gradient_clip_val": 1.0}
    new["run_params"] = {"trainer": {"benchmark": True}}
    return old, new


def _older_key(config):
    """The key the code before ``run_params`` gave a configuration: a hash of all of it."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=repr, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _build_old_store(url):
    """A store holding the same task as an old-form search ("old") and a new-form one ("new"), as the code
    between the two left it (schema 5, the old search under the older key). Returns (old key, new key)."""
    old, new = _configs()
    a = archs(80, 0)
    rng = np.random.default_rng(0)
    with nasbook.KnowledgeBase(url) as kb:
        new_key, old_key = kb.task_key(new), _older_key(old)
        assert old_key != new_key
        kb.ingest(rows(a, rng, 60), task=_AsStored(old, "digits-h-determ"), space=SPACE, name="old")
        kb.add_task_meta(new_key, meta_features={"n_classes": 10, "source": "old"}, landmarks={"p1": 0.25, "p2": 0.5})

        def as_older_code_wrote(conn):
            for table in ("nasbook_searches", "nasbook_arch_stats", "nasbook_task_ranks"):
                conn.execute(sa.text(f"UPDATE {table} SET task_key = :o WHERE task_key = :n"), {"o": old_key, "n": new_key})
            k = TABLES["tasks"].c
            conn.execute(TABLES["tasks"].update().where(k.key == new_key).values(key=old_key, config=old))

        kb._write(as_older_code_wrote)
        kb.ingest(rows(a, rng, 50), task=_AsStored(new, "digits"), space=SPACE, name="new")
        kb.add_task_meta(new_key, landmarks={"p2": 0.75, "p3": 1.0})
        assert sorted(kb.tasks.index) == sorted([old_key, new_key])  # what the code before this fix showed: two tasks
        kb._write(lambda conn: conn.execute(sa.text("UPDATE nasbook_meta SET value = '5' WHERE key = 'schema_version'")))
    return old_key, new_key


def test_an_old_form_search_is_the_same_task_after_the_store_is_opened(url):
    old, new = _configs()
    old_key, new_key = _build_old_store(url)
    with nasbook.KnowledgeBase(url) as kb:
        conn = kb.storage.conn
        assert conn.execute(sa.text("SELECT value FROM nasbook_meta WHERE key = 'schema_version'")).scalar() == "6"
        tasks = kb.tasks
        assert list(tasks.index) == [new_key] and list(tasks["task"]) == ["digits"]
        assert int(tasks["n_searches"].iloc[0]) == 2 and int(tasks["n_trials"].iloc[0]) == 110
        assert kb.task_key(old) == kb.task_key(new) == new_key
        for config in (old, new):
            frame = kb.trials(task=_AsStored(config, "any"))
            assert len(frame) == 110 and set(frame["search"]) == {"old", "new"} and set(frame["task_key"]) == {new_key}
        assert len(kb.trials(task="digits")) == 110
        # the moved row's meta-features and landmarks fill what the row of the new key lacked
        assert kb.meta_features("digits") == {"n_classes": 10, "source": "old"}
        assert kb.landmarks("digits") == {"p1": 0.25, "p2": 0.75, "p3": 1.0}
        # no aggregate is left under the older key, and the stored ranks give what ranking every trial gives
        for table in ("nasbook_arch_stats", "nasbook_task_ranks"):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE task_key = :o"), {"o": old_key}).scalar() == 0
        want = select_warm_start(kb.trials(), SPACE, 8)
        trials = kb.trials
        kb.trials = lambda *a, **k: pytest.fail("the stored ranks should answer without reading the trials")
        try:
            got = kb.warm_start(SPACE, 8)
        finally:
            kb.trials = trials
        assert [(x.id, p) for x, p in got] == [(x.id, p) for x, p in want]
        assert got and all(set(p["tasks"]) == {"digits"} for _, p in got)
        query = archs(80, 0)[0]
        near = kb.similar(query, k=5, task=_AsStored(old, "any"))
        assert len(near) == 5 and set(near["task"]) == {"digits"}
        assert set(kb.similar(query, k=5)["task"]) == {"digits"}


def test_an_export_written_before_the_fix_imports_as_one_task(tmp_path):
    path = str(tmp_path / "old.db")
    _, new_key = _build_old_store(path)
    with sqlite3.connect(path) as db:  # the store as it was, exported as the code between the two did
        db.execute("UPDATE nasbook_meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))
    with nasbook.KnowledgeBase(path) as kb:
        exported = kb.export(tmp_path / "old.parquet")
    with nasbook.KnowledgeBase.import_(exported, into=str(tmp_path / "copy.db")) as kb:
        assert list(kb.tasks.index) == [new_key] and int(kb.tasks["n_trials"].iloc[0]) == 110
        assert kb.landmarks("digits") == {"p1": 0.25, "p2": 0.75, "p3": 1.0}


def _snapshot(path):
    with sqlite3.connect(path) as db:
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}"))) for t in
                ("nasbook_meta", "nasbook_searches", "nasbook_tasks", "nasbook_arch_stats", "nasbook_task_ranks")}


def test_a_migration_that_fails_half_way_changes_nothing(tmp_path, monkeypatch):
    from nasbook.storage import _stats

    path = str(tmp_path / "old.db")
    old_key, new_key = _build_old_store(path)
    before = _snapshot(path)
    rebuild = _stats.rebuild

    def fail(*args):
        raise RuntimeError("the machine went away")

    monkeypatch.setattr(_stats, "rebuild", fail)  # after the searches and task rows were re-keyed
    with pytest.raises(RuntimeError, match="went away"):
        nasbook.KnowledgeBase(path)
    assert _snapshot(path) == before
    monkeypatch.setattr(_stats, "rebuild", rebuild)
    with nasbook.KnowledgeBase(path) as kb:
        assert list(kb.tasks.index) == [new_key]


def test_the_store_and_the_tasks_share_one_identity_rule():
    from nasbook import _run_only
    from nasbook.storage import task_identity
    from nasbook.tasks import split_config

    old, new = _configs()
    assert split_config is _run_only.split_config
    assert task_identity(old) == task_identity(new) == split_config(new)[0]
    assert split_config(old)[1] == split_config(new)[1] == {"trainer": {"benchmark": True}}
    assert task_key(old) == task_key(new) == task_key(task_identity(old))
    assert task_identity(task_identity(old)) == task_identity(old)
