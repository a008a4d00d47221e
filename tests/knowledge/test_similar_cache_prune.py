"""The cache folder's ``similar/`` (server databases' ``kb.similar`` summaries) is bounded: after each save there the
least recently used files (modification time; a load touches its file) are removed until the rest fits
``set_options(cache_max_bytes=...)``, never the file just saved, never anything nasbook did not write or reached
through a symbolic link, never a SQLite file's own ``<file>.similar``; no failure there reaches ``kb.similar``.
Files are made with explicit modification times (``os.utime``): nothing here is timed."""

import os
from pathlib import Path

import numpy as np
import pytest
from _kb_samples import SPACE
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import _cache_prune, _similar_store

KEY = "0123456789abcdef0123456789abcdef"


def _file(path, size, mtime):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_least_recently_used_go_first_until_the_rest_fits(tmp_path):
    root = tmp_path / "similar"
    a = _file(root / f"db1-{KEY}" / "s.default.npz", 100, 1000)
    b = _file(root / f"db1-{KEY}" / "s.graf.npz", 100, 2000)
    c = _file(root / f"db2-{KEY.upper().lower()[::-1]}" / "s.default.npz", 100, 3000)
    new = _file(root / f"db3-{KEY}" / "s.default.npz", 100, 500)  # just written (an old mtime: kept anyway)
    assert _cache_prune.prune(root, 250, keep=new) == 200
    assert not a.exists() and not b.exists() and c.exists() and new.exists()
    assert not a.parent.exists()  # emptied: removed
    assert _cache_prune.prune(root, 250, keep=new) == 0  # fits already
    assert _cache_prune.prune(root, 0, keep=new) == 100 and _tree(root) == [new.parent.name, f"{new.parent.name}/{new.name}"]
    assert _cache_prune.prune(root, None) == 0 and new.exists()  # no cap


def test_foreign_files_and_symbolic_links_are_neither_removed_nor_followed(tmp_path):
    root, outside = tmp_path / "similar", tmp_path / "outside"
    ours = root / f"db-{KEY}"
    target = _file(outside / "precious.npz", 50, 1)
    _file(outside / f"db-{KEY}" / "s.default.npz", 50, 1)
    foreign = [_file(ours / "notes.txt", 50, 1), _file(ours / "s default.npz", 50, 1),
               _file(root / "mine" / "s.default.npz", 50, 1), _file(root / "s.default.npz", 50, 1),
               _file(ours / "sub" / "s.default.npz", 50, 1), _file(root / f"db-{KEY}x" / "s.default.npz", 50, 1)]
    (ours / "link.default.npz").symlink_to(target)
    (root / f"linked-{KEY}").symlink_to(outside / f"db-{KEY}", target_is_directory=True)
    old = _file(ours / "s.default.npz", 50, 2)
    tmp = _file(ours / "s.graf.npz.4242.tmp", 50, 3)  # a crashed save's temporary file: nasbook's, pruned
    before = _tree(outside)
    assert _cache_prune.prune(root, 0) == 100
    assert not old.exists() and not tmp.exists()
    assert all(f.exists() for f in foreign) and (ours / "link.default.npz").is_symlink()
    assert (root / f"linked-{KEY}").is_symlink() and _tree(outside) == before and target.read_bytes() == b"x" * 50


def test_a_similar_folder_that_is_a_symbolic_link_is_not_pruned(tmp_path):
    real = tmp_path / "real"
    f = _file(real / f"db-{KEY}" / "s.default.npz", 50, 1)
    (tmp_path / "similar").symlink_to(real, target_is_directory=True)
    assert _cache_prune.prune(tmp_path / "similar", 0) == 0 and f.exists()
    assert _cache_prune.prune(tmp_path / "absent", 0) == 0


def test_errors_while_pruning_are_harmless(tmp_path, monkeypatch):
    root = tmp_path / "similar"
    stuck = _file(root / f"a-{KEY}" / "s.default.npz", 100, 1)
    gone = root / f"b-{KEY}" / "s.default.npz"
    last = _file(root / f"c-{KEY}" / "s.default.npz", 100, 3)
    real = _cache_prune._entries

    def entries(where):  # one listed, then removed by another process before this one gets to it
        return [*real(where), (2, str(gone), 100, gone)]

    unlink = Path.unlink

    def refuse(self, *a, **k):
        if self == stuck:
            raise PermissionError(13, "Permission denied", str(self))
        return unlink(self, *a, **k)

    monkeypatch.setattr(_cache_prune, "_entries", entries)
    monkeypatch.setattr(Path, "unlink", refuse)
    assert _cache_prune.prune(root, 0) == 100  # the one it could remove
    assert stuck.exists() and not last.exists()
    monkeypatch.setattr(_cache_prune.os, "scandir", lambda *a: (_ for _ in ()).throw(PermissionError(13, "no")))
    monkeypatch.setattr(_cache_prune, "_entries", real)
    assert _cache_prune.prune(root, 0) == 0


def _kept(tmp_path, seed=171):
    """A ``kb.similar`` summary (of a SQLite file: no server needed) and what to save it as."""
    path = str(tmp_path / "kb.db")
    archs, rng = _archs(60, seed), np.random.default_rng(seed)
    kb = nasbook.KnowledgeBase(path)
    kb.ingest(_rows(archs, rng, 80), task="t-a", space=SPACE, name="a1")
    kb.similar(archs[0], 5)
    return kb, kb._similar_kept[(SPACE.space_id, None)]


def test_a_save_into_the_cache_prunes_it_and_a_load_touches_its_file(tmp_path):
    kb, kept = _kept(tmp_path)
    root = _similar_store.cache_root() / "similar"  # $NASBOOK_CACHE_DIR (tests/conftest.py)
    old = _file(root / f"gone-{KEY}" / "s.default.npz", 1000, 1)
    stays = _file(root / f"stays-{KEY}" / "s.default.npz", 1000, 2)
    path = root / f"db-{KEY[::-1]}" / f"{SPACE.space_id}.default.npz"
    assert _similar_store.save(path, kept, SPACE.space_id, None, "sid")
    assert old.exists() and stays.exists()  # the default cap (2 GiB): far away
    size = path.stat().st_size
    with nasbook.set_options(cache_max_bytes=size + 1500):
        assert _similar_store.save(path, kept, SPACE.space_id, None, "sid")
    assert not old.exists() and stays.exists() and path.exists()
    os.utime(path, (5, 5))  # older than `stays`, until used
    assert _similar_store.load(path, SPACE, None, "sid") is not None
    assert path.stat().st_mtime > 1000  # touched: now the most recently used
    other = root / f"other-{KEY}" / "s.default.npz"
    with nasbook.set_options(cache_max_bytes=2 * size + 500):  # room for two summaries: `stays` goes, not `path`
        assert _similar_store.save(other, kept, SPACE.space_id, None, "sid")
    assert not stays.exists() and path.exists() and other.exists()
    with nasbook.set_options(cache_max_bytes=0):  # only the file just written stays
        assert _similar_store.save(other, kept, SPACE.space_id, None, "sid")
    assert not path.exists() and not path.parent.exists() and other.exists()
    kb.close()


def test_a_sqlite_files_summary_folder_is_not_pruned(tmp_path):
    foreign = _file(tmp_path / "kb.db.similar" / "other.default.npz", 1000, 1)
    with nasbook.set_options(cache_max_bytes=0):
        kb, kept = _kept(tmp_path)
        saved = tmp_path / "kb.db.similar" / f"{SPACE.space_id}.default.npz"
        assert saved.exists() and foreign.exists()
        assert _similar_store.save(saved, kept, SPACE.space_id, None, "sid") and foreign.exists()
    kb.close()


def test_a_failing_prune_does_not_fail_the_save(tmp_path, monkeypatch):
    kb, kept = _kept(tmp_path)
    path = _similar_store.cache_root() / "similar" / f"db-{KEY}" / "s.default.npz"

    def broken(*a, **k):
        raise RuntimeError("a bug in the housekeeping")

    monkeypatch.setattr(_cache_prune, "prune", broken)
    assert _similar_store.save(path, kept, SPACE.space_id, None, "sid") and path.exists()
    kb.close()


def test_the_cap_option_then_environment_then_default(monkeypatch):
    assert _cache_prune.max_bytes() == _cache_prune.DEFAULT_MAX_BYTES == 2 * 1024**3
    for env, want in (("500M", 500 * 1024**2), ("4g", 4 * 1024**3), ("123", 123), ("2GiB", 2 * 1024**3),
                      ("none", None), ("OFF", None), ("lots", _cache_prune.DEFAULT_MAX_BYTES)):
        monkeypatch.setenv("NASBOOK_CACHE_MAX_BYTES", env)
        assert _cache_prune.max_bytes() == want, env
    with nasbook.set_options(cache_max_bytes=7):  # the option comes first
        assert _cache_prune.max_bytes() == 7
    with nasbook.set_options(cache_max_bytes=False):
        assert _cache_prune.max_bytes() is None
    with nasbook.set_options(cache_max_bytes=np.int64(0)):
        assert _cache_prune.max_bytes() == 0


def test_cache_max_bytes_option_is_checked():
    for bad in (-1, True, 1.5, "2G", [1]):
        with pytest.raises(nasbook.InvalidParameterError, match=r"cache_max_bytes=.*int >= 0.*None.*False.*got"):
            nasbook.set_options(cache_max_bytes=bad)
    assert nasbook.get_options()["cache_max_bytes"] is None


def test_clear_cache_removes_nasbooks_summaries_only(tmp_path):
    root = _similar_store.cache_root()
    ours = [_file(root / "similar" / f"db-{KEY}" / "s.default.npz", 100, 1),
            _file(root / "similar" / f"db2-{KEY}" / "s.graf.npz", 50, 2)]
    foreign = [_file(root / "similar" / "mine.txt", 10, 1), _file(root / "other" / "s.default.npz", 10, 1)]
    sqlite_side = _file(tmp_path / "kb.db.similar" / "s.default.npz", 10, 1)
    assert nasbook.knowledge.clear_cache() == 150
    assert not any(f.exists() for f in ours) and all(f.exists() for f in foreign) and sqlite_side.exists()
    assert nasbook.knowledge.clear_cache() == 0
    with nasbook.set_options(cache_dir=False):
        assert nasbook.knowledge.clear_cache() == 0
