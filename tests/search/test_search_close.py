"""``Search.close()`` closes a store the search opened, so a tutorial leaves one SQLite file, not three."""

import nasbook
from nasbook.space import ChainSpace
from nasbook.storage import open_storage
from nasbook.testing import ToyTask

SPACE = ChainSpace(kind="mlp")


def _wal_files(path):
    return sorted(p.name for p in path.parent.glob(path.name + "-*"))


def test_close_folds_the_wal_of_a_store_the_search_opened(tmp_path):
    path = tmp_path / "run.db"
    search = nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=0, storage=str(path)).run(progress="none")
    assert _wal_files(path) == ["run.db-shm", "run.db-wal"]  # open while the search holds it
    search.close()
    assert _wal_files(path) == []
    assert search.best is not None and len(search.trials) == 3
    # the search stays usable: its store connects again
    search.extend(trials=1).run(progress="none")
    assert nasbook.load_search(search.name, str(path), task=ToyTask(SPACE)).n_trials == 4


def test_close_leaves_a_store_it_was_given_open(tmp_path):
    store = open_storage(tmp_path / "given.db")
    search = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=store).run(progress="none")
    search.close()
    assert not store.conn.closed and store.search_names() == [search.name]
    memory = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=":memory:").run(progress="none")
    memory.close()  # a ":memory:" store would be lost: it is not closed
    assert memory.storage.search_names() == [memory.name]


def test_close_of_a_loaded_search_closes_the_store_it_opened(tmp_path):
    path = tmp_path / "run.db"
    first = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=str(path), name="s").run(progress="none")
    first.close()
    again = nasbook.load_search("s", str(path), task=ToyTask(SPACE))
    assert len(again.trials) == 2
    again.close()
    assert _wal_files(path) == []


def _marks(search):
    """Where the reprs say the search is closed: (one-line repr, text/plain header, HTML header)."""
    bundle = search._repr_mimebundle_()
    header = bundle["text/plain"].splitlines()[0]
    return (", closed:" in repr(search), header.endswith("  closed"),
            '<span class="nb-muted">closed</span>' in bundle["text/html"])


def test_a_closed_search_says_so_in_its_reprs_until_it_is_used_again(tmp_path):
    # a closed search could still be read and run, but nothing in its repr told a notebook user it was closed
    path = tmp_path / "run.db"
    search = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=str(path), name="s").run(progress="none")
    assert _marks(search) == (False, False, False)
    html_open = search._repr_mimebundle_()["text/html"]
    search.close()
    assert repr(search).startswith("<Search 's' done, closed: 2 of 2 trials")
    assert _marks(search) == (True, True, True)
    html_closed = search._repr_mimebundle_()["text/html"]
    assert 0 < len(html_closed) - len(html_open) < 60  # a short mark, nothing more
    assert len(search.trials) == 2 and _marks(search) == (True, True, True)  # reading it does not reopen it
    search.extend(trials=1).run(progress="none")  # run() reopens it
    assert _marks(search) == (False, False, False) and search.n_trials == 3
    search.close()
    search.extend(trials=1).start(progress="none")  # so does start(), from the cell that calls it
    assert _marks(search) == (False, False, False)
    search.wait()
    assert search.n_trials == 4 and _marks(search) == (False, False, False)
    search.close()
    assert _marks(search) == (True, True, True)
