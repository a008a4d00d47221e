"""``ix_nasbook_trials_best`` (``nasbook_trials (search_id, state, epochs, value)``): made in a store that lacks it
(one made before it, a migrated one), on SQLite and PostgreSQL; every search's best read by seeks in it is the
answer the passes over the trials give, and the same without the index (the answers never depend on it)."""

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

import nasbook
from nasbook.space import CellSpace
from nasbook.storage import Storage, best_of_searches, search_bests

SPACE = CellSpace(n_nodes=4)
INDEX = "ix_nasbook_trials_best"
V1_SQL = Path(__file__).parent / "data" / "schema_v1_search.sql"


def _fill(kb, seed=0):
    """Searches of every shape the rule meets: one or several rungs, trials without epochs, min mode, ties, failed
    trials, NaN and infinite values, a search where nothing counts."""
    rng = np.random.default_rng(seed)
    pool = list({a.id: a for a in (SPACE.sample(rng) for _ in range(10))}.values())
    shapes = [[None], [1], [1, 3, 9], [None, 1, 3], [None, None, 3], [9, 9, 1], [2, 2]]
    for i in range(14):
        rows = []
        for n in range(int(rng.integers(1, 30))):
            state = "failed" if rng.random() < 0.1 else "complete"
            value = float(rng.choice([0.1, 0.2, 0.3, 0.3, -0.3, 0.0, math.inf, -math.inf]))
            epochs = shapes[i % len(shapes)][int(rng.integers(len(shapes[i % len(shapes)])))]
            rows.append({"arch": pool[int(rng.integers(len(pool)))].to_dict(), "state": state, "number": n,
                         "value": value if state == "complete" else math.nan,
                         **({} if epochs is None else {"epochs": epochs})})
        kb.ingest(rows, task=f"t{i % 5}", space=SPACE, name=f"s{i}", mode="min" if i % 3 == 1 else "max")
    kb.ingest([{"arch": pool[0].to_dict(), "value": math.nan, "state": "failed", "number": 0}],
              task="t-none", space=SPACE, name="s-none")


def _bests(conn, modes, dialect=None):
    """``search_bests`` then ``best_of_searches`` as ``KnowledgeBase.searches`` calls them."""
    rules = search_bests(lambda q, p=None: conn.execute(q, p).all(), modes, dialect or conn.dialect.name)
    flat = {sid: (n, r.value, r.top) for sid, (n, r) in rules.items()}
    return flat, best_of_searches(conn, modes, bests={sid: r for sid, (_, r) in rules.items()})


def _has_index(url):
    engine = sa.create_engine(url)
    try:
        return INDEX in {ix["name"] for ix in sa.inspect(engine).get_indexes("nasbook_trials")}
    finally:
        engine.dispose()


def _drop_index(url):
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP INDEX {INDEX}"))
    finally:
        engine.dispose()


def test_a_store_made_before_the_index_gets_it_and_the_same_searches(store_url):
    with nasbook.KnowledgeBase(store_url) as kb:
        _fill(kb)
        before = kb.searches
    assert _has_index(store_url)
    _drop_index(store_url)  # as a store written before this index was
    assert not _has_index(store_url)
    with nasbook.KnowledgeBase(store_url) as kb:
        assert _has_index(store_url)
        pd.testing.assert_frame_equal(kb.searches, before)
        listed = [(r.name, r.n_trials, r.best_value) for r in kb.storage.list_searches()]
    assert listed == [(r.search, r.n_trials, None if pd.isna(r.best) else r.best) for r in before.itertuples()]
    assert before["best"].notna().sum() >= 10 and before["best_epochs"].isna().sum() >= 2


def test_the_seeks_answer_as_the_passes_over_the_trials_and_without_the_index(tmp_path):
    path = tmp_path / "kb.db"
    with nasbook.KnowledgeBase(path) as kb:
        _fill(kb, seed=3)
        modes = {int(sid): m for sid, m in kb._rows(sa.text("SELECT id, json_extract(config, '$.mode') FROM nasbook_searches"))}
        modes = {sid: m or "max" for sid, m in modes.items()}
        assert "min" in modes.values()
        seeks = kb._write(lambda conn: _bests(conn, modes))
        passes = kb._write(lambda conn: _bests(conn, modes, dialect="other"))  # the GROUP BYs other servers run
    assert seeks[0] == passes[0]  # counts, best values, most epochs (best_of_searches: test_kb_searches_one_pass)
    assert seeks[1] == passes[1]
    assert len(seeks[1]) >= 10
    con = sqlite3.connect(path)
    con.execute(f"DROP INDEX {INDEX}")
    con.commit()
    con.close()
    engine = sa.create_engine(f"sqlite:///{path}")  # not a Storage: it would make the index again
    with engine.begin() as conn:
        assert INDEX not in {ix["name"] for ix in sa.inspect(conn).get_indexes("nasbook_trials")}
        assert _bests(conn, modes) == seeks
    engine.dispose()


def test_a_migrated_version_1_file_has_the_index(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(V1_SQL.read_text())
    con.close()
    Storage(path).close()
    with sqlite3.connect(path) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert INDEX in names


def test_a_store_where_the_index_cannot_be_made_still_opens(tmp_path, monkeypatch):

    path = tmp_path / "kb.db"
    with nasbook.KnowledgeBase(path) as kb:
        _fill(kb, seed=5)
        before = kb.searches
    _drop_index(f"sqlite:///{path}")

    def refused(self, bind, checkfirst=False):
        raise sa.exc.OperationalError("CREATE INDEX", {}, Exception("permission denied"))

    monkeypatch.setattr(sa.Index, "create", refused)
    with nasbook.KnowledgeBase(path) as kb:  # as a role that may not create indexes: opens, the same answers
        pd.testing.assert_frame_equal(kb.searches, before)
    assert not _has_index(f"sqlite:///{path}")
