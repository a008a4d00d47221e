"""``KnowledgeBase.trials`` filters take what a user holds (outside probe 6b: ``states=3`` raised a raw
``TypeError: 'int' object is not iterable``; ``task=np.array(['ext'])``, a column of names, was refused as
not a task), on SQLite and PostgreSQL."""
import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.tasks import NasBenchGraph


@pytest.fixture
def kb(store_url):
    kb = KnowledgeBase(store_url)
    cora = NasBenchGraph("cora")
    rng = np.random.default_rng(0)
    kb.ingest([{"arch": cora.space.sample(rng), "value": 0.5 if i % 2 else float("nan"), "state": "complete" if i % 2 else "failed"}
               for i in range(6)], task="ext", space=cora.space, name="ing")
    nasbook.Search(cora, budget=3, seed=1, kb=kb, storage=store_url, name="cora-s").run(progress="none")
    yield kb
    kb.close()


@pytest.mark.parametrize("bad", [3, 2.5, b"failed", {"failed": 1}, np.array("failed")])
def test_states_of_the_wrong_type_are_refused_naming_states(kb, bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"KnowledgeBase\.trials\(states=\.\.\.\) must be a trial state or a list"):
        kb.trials(states=bad)
    with pytest.raises(nasbook.InvalidParameterError, match=r"states=\.\.\."):
        kb.to_xarray(states=bad)


def test_states_as_an_array_or_a_series_are_a_list(kb):
    want = kb.trials(states=["failed"])
    assert len(want) == 3
    for states in (np.array(["failed"]), pd.Series(["failed"]), ("failed",), {"failed"}):
        assert kb.trials(states=states).equals(want)


def test_unknown_states_still_name_the_bad_one(kb):
    with pytest.raises(nasbook.InvalidParameterError, match=r"got \['bogus'\]"):
        kb.trials(states=["complete", "bogus"])


def test_task_search_and_space_filters_take_a_numpy_array_of_names(kb):
    assert kb.trials(task=np.array(["ext"]), states=None).equals(kb.trials(task=["ext"], states=None))
    assert kb.trials(search=np.array(["cora-s", "ing"]), states=None).equals(kb.trials(search=["cora-s", "ing"], states=None))
    sid = NasBenchGraph("cora").space.space_id
    assert len(kb.trials(space=pd.Series([sid]), states=None)) == 9
