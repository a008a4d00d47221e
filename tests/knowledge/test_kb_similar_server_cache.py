"""A server database's (PostgreSQL) ``kb.similar`` summary is saved in this user's cache folder, so that a new
process's first call loads it (``how == "loaded"``) rather than reading and encoding the space's trials again,
with the answers of a rebuild; writes in between are merged. The file is keyed by the store's id
(``nasbook_meta``'s ``store_id``) with the URL: a database dropped and made again at the same URL, or a SQLite
file deleted and made again at the same path, is not served the old summary. ``set_options(cache_dir=False)``
or ``NASBOOK_CACHE_DIR=off`` saves nothing; a cache folder that cannot be written changes nothing but speed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import _forked
import numpy as np
import pytest
import sqlalchemy as sa
from _kb_samples import SPACE, first_similar
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import _similar_store, similar_archs

HERE = str(Path(__file__).parent)


def _child(tmp_path, url, seed, **env):
    """A new process's first ``kb.similar`` on ``url`` (``_kb_samples.first_similar``), with this environment and
    ``env`` over it: how it got its summary, and whether it equals a rebuild. It is forked from ``_forked``'s
    fork server (nasbook imported, no store opened) or, without one, a new interpreter."""
    env = {**os.environ, **env}
    if _forked.FORKSERVER:
        out = _forked.call(first_similar, url, seed, env=env, timeout=300)
    else:
        code = f"import json, sys; sys.path.insert(0, {HERE!r}); from _kb_samples import first_similar; " \
               f"print(json.dumps(first_similar({url!r}, {seed!r})))"
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
        assert res.returncode == 0, res.stderr[-3000:]
        out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["same"], "the loaded summary answered otherwise than a rebuild"
    return out


def _fill(url, seed, n=90, trials=150):
    rng = np.random.default_rng(seed)
    archs = _archs(n, seed)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_rows(archs[:60], rng, trials), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[30:], rng, trials), task="t-b", space=SPACE, mode="min", name="b1")
    return archs


def _files(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).exists() else []


def test_where_the_summary_is_kept(url, tmp_path):
    with nasbook.KnowledgeBase(url) as kb:
        where = _similar_store.path_for(kb, SPACE.space_id, "graf")
        if url.startswith("postgresql"):  # in the cache folder ($NASBOOK_CACHE_DIR: tests/conftest.py)
            assert where.parent.parent == tmp_path / "nasbook-cache" / "similar"
            assert where.parent.name.startswith(sa.make_url(url).database + "-")
        else:
            assert where == Path(url + ".similar") / where.name
        with nasbook.set_options(cache_dir=tmp_path / "elsewhere"):
            moved = _similar_store.path_for(kb, SPACE.space_id, "graf")
            assert moved.is_relative_to(tmp_path / "elsewhere") == url.startswith("postgresql")
        with nasbook.set_options(cache_dir=False):  # off: a server database keeps nothing, a SQLite file its own
            assert (_similar_store.path_for(kb, SPACE.space_id, "graf") is None) == url.startswith("postgresql")
    with nasbook.KnowledgeBase(":memory:") as kb:
        assert _similar_store.path_for(kb, SPACE.space_id, None) is None


def test_cache_dir_option_is_checked():
    for bad in (1, True, "", ["x"]):
        with pytest.raises(nasbook.InvalidParameterError, match=r"cache_dir=.*folder.*None.*False.*got"):
            nasbook.set_options(cache_dir=bad)
    assert nasbook.get_options()["cache_dir"] is None


def test_a_new_process_loads_a_server_databases_summary_and_merges_writes_since(postgres_url, tmp_path):
    secret = "s3cret-pw"  # the test server trusts local users: any password connects
    url = sa.make_url(postgres_url).set(password=secret).render_as_string(hide_password=False)
    archs = _fill(url, 160)
    first = _child(tmp_path, url, 160)
    assert first["how"] == "read"
    saved = _files(tmp_path / "nasbook-cache")
    assert len(saved) == 1 and saved[0].suffix == ".npz"
    assert secret not in str(saved[0]) and secret.encode() not in saved[0].read_bytes()
    assert (saved[0].parent.stat().st_mode & 0o077) == 0  # this user's only
    second = _child(tmp_path, url, 160)
    assert second["how"] == "loaded" and second["got"] == first["got"]
    with nasbook.KnowledgeBase(url) as kb:  # written in between: merged into the loaded summary
        kb.ingest(_rows(_archs(40, 161) + archs[:10], np.random.default_rng(161), 80), task="t-c", space=SPACE,
                  name="c1")
        want = similar_archs(kb.trials(space=SPACE.space_id), SPACE, archs[0], 500)
    third = _child(tmp_path, url, 160)
    assert third["how"] == "merged" and third["got"] != first["got"]
    assert third["got"] == want.to_json(orient="split", double_precision=15)


def _recreate(server_url, name):
    import psycopg

    u = sa.make_url(server_url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)


def _token(url):
    with nasbook.KnowledgeBase(url) as kb:
        return kb._similar_token(SPACE.space_id)


def test_a_database_made_again_at_the_same_url_is_not_served_the_old_summary(postgres_server, tmp_path):
    url = _recreate(postgres_server, "nb_same_url")
    _fill(url, 162)
    assert _child(tmp_path, url, 162)["how"] == "read"
    assert _child(tmp_path, url, 162)["how"] == "loaded"
    before = _token(url)
    url = _recreate(postgres_server, "nb_same_url")  # other trials, written alike: the very same change token
    _fill(url, 163)
    assert _token(url) == before
    again = _child(tmp_path, url, 162)  # (and equal to a rebuild: _child)
    assert again["how"] == "read"
    assert _child(tmp_path, url, 162)["how"] == "loaded"


def test_a_sqlite_file_made_again_at_the_same_path_is_not_served_the_old_summary(tmp_path):
    path = str(tmp_path / "kb.db")
    _fill(path, 164)
    assert _child(tmp_path, path, 164)["how"] == "read"
    before = _token(path)
    os.remove(path)  # kb.db.similar stays
    _fill(path, 165)
    assert _token(path) == before
    assert _child(tmp_path, path, 164)["how"] == "read"


def test_a_store_without_an_id_gets_one_and_then_keeps_its_summary(postgres_url, tmp_path):
    _fill(postgres_url, 166)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:  # as an older nasbook created it
        con.execute(sa.text("DELETE FROM nasbook_meta WHERE key = 'store_id'"))
    assert _child(tmp_path, postgres_url, 166)["how"] == "read"
    with engine.connect() as con:
        sid = con.execute(sa.text("SELECT value FROM nasbook_meta WHERE key = 'store_id'")).scalar()
    engine.dispose()
    assert sid is not None and len(sid) == 32
    assert _child(tmp_path, postgres_url, 166)["how"] == "loaded"


def test_the_cache_turned_off_saves_nothing(postgres_url, tmp_path):
    _fill(postgres_url, 167)
    off = {"NASBOOK_CACHE_DIR": "off"}
    assert _child(tmp_path, postgres_url, 167, **off)["how"] == "read"
    assert _child(tmp_path, postgres_url, 167, **off)["how"] == "read"
    assert _files(tmp_path / "nasbook-cache") == [] and not (tmp_path / "off").exists()
    with nasbook.set_options(cache_dir=False), nasbook.KnowledgeBase(postgres_url) as kb:
        kb.similar(_archs(90, 167)[0], 5)
        assert kb._similar_kept[(SPACE.space_id, None)].how == "read"
    assert _files(tmp_path / "nasbook-cache") == []


def test_a_cache_folder_that_cannot_be_written_changes_nothing_but_speed(postgres_url, tmp_path):
    _fill(postgres_url, 168)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    for where in (blocker, blocker / "below"):
        out = [_child(tmp_path, postgres_url, 168, NASBOOK_CACHE_DIR=str(where)) for _ in range(2)]
        assert [o["how"] for o in out] == ["read", "read"] and out[0]["got"] == out[1]["got"]
    assert blocker.read_text() == "a file where the cache folder would go"


def test_a_file_where_a_sqlite_files_summary_folder_would_be_is_harmless(tmp_path):
    path = str(tmp_path / "kb.db")
    _fill(path, 169)
    Path(path + ".similar").write_text("not a folder")  # the save's clean-up raised NotADirectoryError here
    assert [_child(tmp_path, path, 169)["how"] for _ in range(2)] == ["read", "read"]


def test_the_cache_folder_option_then_environment_then_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _similar_store.cache_root() == tmp_path / "nasbook-cache"  # $NASBOOK_CACHE_DIR (tests/conftest.py)
    with nasbook.set_options(cache_dir=str(tmp_path / "opt")):
        assert _similar_store.cache_root() == tmp_path / "opt"
    monkeypatch.setenv("NASBOOK_CACHE_DIR", "OFF")
    assert _similar_store.cache_root() is None
    with nasbook.set_options(cache_dir=tmp_path / "opt"):  # the option comes first
        assert _similar_store.cache_root() == tmp_path / "opt"
    monkeypatch.delenv("NASBOOK_CACHE_DIR")
    if sys.platform.startswith("linux"):
        assert _similar_store.cache_root() == tmp_path / "xdg" / "nasbook"
        monkeypatch.setitem(sys.modules, "platformdirs", None)  # without platformdirs: the same folder
        assert _similar_store.cache_root() == tmp_path / "xdg" / "nasbook"
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert _similar_store.cache_root() == tmp_path / "home" / ".cache" / "nasbook"


def test_a_role_that_cannot_write_the_store_id_gets_answers_and_no_cache(postgres_url, tmp_path):
    _fill(postgres_url, 170)
    role = "reader_" + sa.make_url(postgres_url).database  # roles are the server's: one per test database
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:  # an older build's store, opened by a role that may only read it
        con.execute(sa.text("DELETE FROM nasbook_meta WHERE key = 'store_id'"))
        con.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        con.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    reader = sa.make_url(postgres_url).set(username=role).render_as_string(hide_password=False)
    assert [_child(tmp_path, reader, 170)["how"] for _ in range(2)] == ["read", "read"]
    assert _files(tmp_path / "nasbook-cache") == []
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT value FROM nasbook_meta WHERE key = 'store_id'")).scalar() is None
    engine.dispose()
    assert _child(tmp_path, postgres_url, 170)["how"] == "read"  # the owner writes the id: now the reader reads it
    assert [_child(tmp_path, reader, 170)["how"] for _ in range(2)] == ["read", "loaded"]
    assert len(_files(tmp_path / "nasbook-cache")) == 2  # the owner's and the reader's (the user is in the key)
