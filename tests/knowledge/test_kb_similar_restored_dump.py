"""Two databases restored from one dump share its ``store_id`` (``nasbook_meta``), so at one URL (the database
dropped and restored again, a server container made again) or one SQLite path (a file put back from a backup),
the second was served the summary ``kb.similar`` saved for the first: after both diverged with the same
searches, counts and largest trial id, its token matched and the file "loaded", answering with the first one's
values. The saved file now also holds the anchor (``_similar_store.anchor``: who wrote the row of the largest
id it was read up to), which the other database's row at that id does not match: it reads its own trials."""

import shutil
import sqlite3

import numpy as np
import sqlalchemy as sa
from _kb_samples import SPACE
from _kb_samples import rows as _rows
from test_kb_similar_server_cache import _child, _fill

import nasbook


def _admin(url):
    import psycopg

    u = sa.make_url(url)
    return psycopg.connect(host=u.host, port=u.port, user=u.username, dbname="postgres", autocommit=True,
                           connect_timeout=10)


def _dump(url, tmp_path):
    """A copy of the store at ``url`` (a SQLite backup; a template database on PostgreSQL): what a dump holds."""
    if not url.startswith("postgresql"):
        dump = str(tmp_path / "dump.db")
        with sqlite3.connect(url) as src, sqlite3.connect(dump) as dst:
            src.backup(dst)
        return dump
    name = sa.make_url(url).database
    with _admin(url) as con:
        con.execute(f'CREATE DATABASE "{name}_dump" TEMPLATE "{name}"')
    return f"{name}_dump"


def _restore(url, dump):
    """The store at ``url`` replaced by the dump: the same URL or path, the dump's contents (and store id)."""
    if not url.startswith("postgresql"):
        for suffix in ("", "-wal", "-shm"):
            try:
                shutil.os.remove(url + suffix)
            except FileNotFoundError:
                pass
        with sqlite3.connect(dump) as src, sqlite3.connect(url) as dst:
            src.backup(dst)
        return
    name = sa.make_url(url).database
    with _admin(url) as con:
        con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{dump}"')


def _diverge(url, archs, seed):
    """The same new search on both restores (name, configuration, trial count, architectures), other values."""
    picks = _rows(archs, np.random.default_rng(7), 40)
    values = np.round(np.random.default_rng(seed).random(40), 2)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest([{**r, "value": float(v)} for r, v in zip(picks, values)], task="t-a", space=SPACE, name="c1")
        return kb._similar_token(SPACE.space_id)


def test_two_databases_restored_from_one_dump_then_diverging_get_their_own_answers(url, tmp_path):
    archs = _fill(url, 171)
    assert _child(tmp_path, url, 171)["how"] == "read"  # saved for the dump's contents: right for both restores
    dump = _dump(url, tmp_path)

    _restore(url, dump)
    first_token = _diverge(url, archs, 1)
    first = _child(tmp_path, url, 171)  # (_child: its answer equals a rebuild from this database's trials)
    assert first["how"] == "merged"  # from the dump's summary: its trials are this database's too

    _restore(url, dump)
    assert _diverge(url, archs, 2) == first_token  # same searches, counters and largest id: the token cannot tell
    second = _child(tmp_path, url, 171)  # loaded the first one's summary, and answered with its values
    assert second["how"] == "read" and second["got"] != first["got"]
    assert _child(tmp_path, url, 171)["how"] == "loaded"  # its own summary saved: kept again from now on
