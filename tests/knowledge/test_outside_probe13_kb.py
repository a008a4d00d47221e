"""The defects outside probe 13 (benchmarks/outside_probe13.py) found in ``KnowledgeBase``, kept fixed: a refused
``warm_start`` names the parameter the user gave (``space=``; the method has no ``trials=``), and opening a store
whose file mode has no write bit (chmod 444) as a process that may write it anyway (root) does not add the
best-trial index to it: its bytes stay the same and its answers are the same."""

import hashlib
import os
import sqlite3

import numpy as np
import pytest

from nasbook import InvalidParameterError, KnowledgeBase
from nasbook.space import CellSpace

SPACE, OTHER = CellSpace(n_nodes=4), CellSpace(n_nodes=5)
INDEX = "ix_nasbook_trials_best"


def _rows(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [{"arch": SPACE.sample(rng).to_dict(), "value": float(i) / n, "number": i} for i in range(n)]


@pytest.mark.parametrize("filled", [False, True])
def test_warm_start_refusal_names_space_not_trials(filled):
    kb = KnowledgeBase(":memory:")
    if filled:
        kb.ingest(_rows(), task="t", space=SPACE, name="s")
    with pytest.raises(InvalidParameterError) as info:
        kb.warm_start(OTHER, n=3)
    text = str(info.value)
    assert text.startswith("KnowledgeBase.warm_start(space=...)") and "(trials=" not in text, text
    assert OTHER.space_id in text and ("6 complete trials" if filled else "0 complete trials") in text


def _indexes(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        con.close()


def test_read_only_mode_store_gains_no_index(tmp_path):
    path = tmp_path / "old.db"
    kb = KnowledgeBase(path)
    kb.ingest(_rows(), task="t", space=SPACE, name="s")
    want = (kb.searches.drop(columns=["created"], errors="ignore"), [r.name for r in kb.storage.list_searches()])
    kb.close()
    con = sqlite3.connect(path)
    con.execute(f"DROP INDEX {INDEX}")  # a store made before the index
    con.commit()
    con.close()
    os.chmod(path, 0o444)
    if not os.access(path, os.W_OK):
        pytest.skip("not root: a chmod 444 file is refused at once (docs/search-loop.md), tested elsewhere")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    kb = KnowledgeBase(path)
    got = (kb.searches.drop(columns=["created"], errors="ignore"), [r.name for r in kb.storage.list_searches()])
    kb.close()
    assert got[0].equals(want[0]) and got[1] == want[1]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha and INDEX not in _indexes(path)
    os.chmod(path, 0o644)  # writable again: the next open makes it
    KnowledgeBase(path).close()
    assert INDEX in _indexes(path)
