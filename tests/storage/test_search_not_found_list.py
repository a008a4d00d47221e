"""``load_search`` / ``nasbook show`` of a name that is not stored: the list of names says when it is cut."""

import pytest

import nasbook
from nasbook._errors import SearchNotFoundError
from nasbook.tasks import NasBenchGraph


def test_a_missing_name_lists_ten_searches_and_says_how_many_more(tmp_path):
    db = str(tmp_path / "runs.db")
    for i in range(13):
        nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=1, seed=300 + i, storage=db,
                       name=f"run-{i:02d}").run(progress="none")
    # before: the first ten names alone, as if they were all the store held (outside probe 3)
    with pytest.raises(SearchNotFoundError, match=r"'run-09'\] and 3 more"):
        nasbook.load_search("nope", db)
    with pytest.raises(SearchNotFoundError, match=r"did you mean 'run-12'"):
        nasbook.load_search("run-12x", db)


def test_a_short_list_is_given_whole(tmp_path):
    db = str(tmp_path / "runs.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=1, seed=300, storage=db, name="only").run(progress="none")
    with pytest.raises(SearchNotFoundError, match=r"Searches there: \['only'\]\."):
        nasbook.load_search("nope", db)
