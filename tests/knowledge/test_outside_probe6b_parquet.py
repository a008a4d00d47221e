"""An export of a search made after ``Search.extend`` merges into an earlier import of it (outside probe 6b:
the extended budget made ``import_parquet`` call it "a different search" and refuse the trials it added),
on SQLite and PostgreSQL."""
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp("grow")
    db = str(d / "grow.db")
    s = nasbook.Search(NasBenchGraph("cora"), budget=4, seed=856, storage=db, name="grow").run(progress="none")
    first = KnowledgeBase(db).export(d / "first.parquet")
    s.extend(trials=3).run(progress="none")
    later = KnowledgeBase(db).export(d / "later.parquet")
    return first, later, s.to_dataframe()["value"].tolist()


def test_a_later_export_of_an_extended_search_adds_its_trials_and_budget(store_url, exports):
    first, later, values = exports
    kb = KnowledgeBase.import_(first, into=store_url)
    assert kb.import_parquet(later) == ["grow"]
    assert len(kb.trials(search="grow", states=None)) == 7
    s = nasbook.load_search("grow", store_url)
    assert s.budget.trials == 7 and s.n_trials == 7
    assert s.extend(trials=2).run(progress="none").n_trials == 9
    assert s.to_dataframe()["value"].tolist()[:7] == values
    kb.import_parquet(first)  # the older file again: nothing lost, the budget not shrunk
    assert len(kb.trials(search="grow", states=None)) == 9
    assert nasbook.load_search("grow", store_url).budget.trials == 9
    kb.close()


def test_a_search_of_the_same_name_but_another_seed_is_still_refused(tmp_path, exports):
    first, _, _ = exports
    db = str(tmp_path / "mine.db")
    nasbook.Search(NasBenchGraph("cora"), budget=4, seed=1, storage=db, name="grow").run(progress="none")
    with pytest.raises(nasbook.StorageError, match="already has a different search named 'grow'"):
        KnowledgeBase(db).import_parquet(first)
