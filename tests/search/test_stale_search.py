"""A Search object loaded before another one stored more trials refuses to run, and changes nothing stored."""

import pytest

import nasbook
from nasbook._errors import StorageError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.storage import open_storage
from nasbook.testing import ToyTask


def _stored(db, name):
    st = open_storage(db, create=False)
    try:
        rec = st.get_search(name)
        return rec.state, rec.elapsed_s, [(t.number, t.state.value, t.value) for t in st.load_trials(rec.id, GraphSpace(ops=PROTEINS_OPS))[0]]
    finally:
        st.close()


def test_a_stale_search_refuses_to_run_and_leaves_the_stored_search_as_it_was(tmp_path):
    db = str(tmp_path / "stale.db")
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=100, storage=db, name="s").run(progress="none")
    stale = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=10)
    nasbook.load_search("s", storage=db, task=ToyTask(space), budget=8).run(progress="none")  # another process
    before = _stored(db, "s")
    assert before[0] == "done" and len(before[2]) == 8
    with pytest.raises(StorageError, match=r"trial 3 .*already stored.*load it again"):
        stale.run(progress="none")
    assert _stored(db, "s") == before  # state, elapsed time and trials: as the fresh search left them
    # the lease is given back, and the refused object re-reads the store on its next run(): it runs on from there
    assert stale.run(progress="none").n_trials == 10
    state, _, stored = _stored(db, "s")
    assert state == "done" and [t[0] for t in stored] == list(range(10)) and stored[:8] == before[2]
