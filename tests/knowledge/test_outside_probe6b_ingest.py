"""``KnowledgeBase.ingest`` checks epochs, numbers and finished_at (outside probe 6b: ``epochs=2.5`` was stored as
2 and ``epochs=-1`` as -1, ``number=1.5`` as 1, and ``finished_at='yesterday'`` raised a raw ValueError)."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.tasks import NasBenchGraph

SPACE = NasBenchGraph("cora").space


def _ingest(kb, **row):
    return kb.ingest([{"arch": SPACE.sample(np.random.default_rng(0)), "value": 0.5, **row}], task="t", space=SPACE)


@pytest.mark.parametrize("bad", [2.5, -1, True, "many", float("inf")])
def test_epochs_that_are_not_a_whole_number_are_refused_not_truncated(bad):
    kb = KnowledgeBase(":memory:")
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 0's epochs should be a whole number >= 0"):
        _ingest(kb, epochs=bad)
    assert len(kb.searches) == 0  # nothing recorded


@pytest.mark.parametrize("good, stored", [(3, 3), (3.0, 3), (np.int64(4), 4), (0, 0), (None, None), (float("nan"), None)])
def test_whole_epochs_are_stored(good, stored):
    kb = KnowledgeBase(":memory:")
    got = kb.trials(search=_ingest(kb, epochs=good))["epochs"].iloc[0]
    assert (got is pd.NA and stored is None) or got == stored


@pytest.mark.parametrize("bad", [1.5, True, "x"])
def test_a_number_that_is_not_a_whole_number_is_refused(bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 0's number should be an int"):
        _ingest(KnowledgeBase(":memory:"), number=bad)


@pytest.mark.parametrize("bad", ["yesterday", float("inf"), True, [1.0]])
def test_finished_at_that_is_not_a_time_is_refused(bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 0's finished_at should be a time in seconds"):
        _ingest(KnowledgeBase(":memory:"), finished_at=bad)


@pytest.mark.parametrize("when", [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), pd.Timestamp("2026-01-01", tz="UTC"), 1767225600])
def test_finished_at_takes_seconds_or_a_datetime(when):
    kb = KnowledgeBase(":memory:")
    assert kb.trials(search=_ingest(kb, finished_at=when))["finished_at"].iloc[0] == 1767225600.0


def test_a_missing_finished_at_is_the_time_of_the_ingest():
    kb = KnowledgeBase(":memory:")
    for missing in (None, float("nan"), pd.NaT):
        assert kb.trials(search=_ingest(kb, finished_at=missing))["finished_at"].iloc[0] > 1.7e9
