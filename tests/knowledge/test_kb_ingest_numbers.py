"""``KnowledgeBase.ingest`` checks trial numbers and values before anything is stored: two trials with one
number gave a StorageError quoting SQLite's UNIQUE constraint, a negative number was stored, and a value
given as a string (``"0.5"``) was read as a number. A refused ingest records nothing, even when the
clash is with a chunk already inserted."""
import re

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.knowledge import _ingest
from nasbook.tasks import NasBenchGraph

SPACE = NasBenchGraph("cora").space
ARCH = SPACE.sample(np.random.default_rng(0))


def _rows(numbers):
    return [{"arch": ARCH, "value": 0.5, **({} if n is None else {"number": n})} for n in numbers]


@pytest.mark.parametrize("numbers, first, second, number", [
    ([3, 3], 0, 1, 3),  # plain ints: the fast path
    ([None, 0], 0, 1, 0),  # a missing number is the row's index
    ([np.int64(5), 1, 5.0], 0, 2, 5),  # the slow path
])
def test_two_trials_with_one_number_are_refused_naming_both(numbers, first, second, number):
    kb = KnowledgeBase(":memory:")
    with pytest.raises(nasbook.InvalidParameterError,
                       match=rf"trials {first} and {second} both have number {number}; each trial of a search needs"):
        kb.ingest(_rows(numbers), task="t", space=SPACE)
    assert len(kb.searches) == 0


def test_a_clash_with_an_earlier_chunk_is_refused_and_the_stored_chunk_removed(monkeypatch):
    monkeypatch.setattr(_ingest, "CHUNK", 2)
    kb = KnowledgeBase(":memory:")
    kept = kb.ingest(_rows([None]), task="t", space=SPACE, name="kept")
    frame = pd.DataFrame({"arch": [ARCH.to_dict()] * 5, "value": [0.5] * 5, "number": [7, 8, 9, 10, 8]})
    with pytest.raises(nasbook.InvalidParameterError, match=r"trials 1 and 4 both have number 8"):
        kb.ingest(frame, task="t", space=SPACE, name="clash")
    assert [s.name for s in kb.storage.list_searches()] == [kept]
    assert len(kb.trials()) == 1
    with pytest.raises(nasbook.InvalidParameterError, match=r"trials 2 and 3 both have number 2"):  # default vs given
        kb.ingest(_rows([None, None, None, 2]), task="t", space=SPACE, name="clash")
    assert len(kb.trials()) == 1


@pytest.mark.parametrize("bad", [-1, np.int64(-3), -2.0])
def test_a_negative_number_is_refused(bad):
    kb = KnowledgeBase(":memory:")
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 1's number should be an int >= 0 .*got (np.int64\()?-"):
        kb.ingest(_rows([0, bad]), task="t", space=SPACE)
    assert len(kb.searches) == 0


@pytest.mark.parametrize("bad", ["3", np.bool_(True)])
def test_a_number_that_is_a_string_or_a_bool_is_refused(bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 0's number should be an int >= 0"):
        KnowledgeBase(":memory:").ingest(_rows([bad]), task="t", space=SPACE)


@pytest.mark.parametrize("bad", ["0.5", b"0.5", np.bool_(True)])
def test_a_value_that_is_not_a_number_is_refused(bad):
    kb = KnowledgeBase(":memory:")
    with pytest.raises(nasbook.InvalidParameterError, match=r"trial 1's value should be a number \(or None\); got"):
        kb.ingest([{"arch": ARCH, "value": 0.4}, {"arch": ARCH, "value": bad}], task="t", space=SPACE)
    assert len(kb.searches) == 0


@pytest.mark.parametrize("good", [0.5, np.float32(0.5), np.float64(0.5), 1, np.int64(1)])
def test_numbers_of_any_numeric_type_are_values(good):
    kb = KnowledgeBase(":memory:")
    name = kb.ingest([{"arch": ARCH, "value": good, "number": np.int64(4)}], task="t", space=SPACE)
    row = kb.trials(search=name).iloc[0]
    assert row["value"] == float(good) and row["number"] == 4


def _too_big(url):
    """The first whole number the store's INTEGER columns cannot hold: 2**63 on SQLite, 2**31 on PostgreSQL."""
    return 2**63 if url.endswith(".db") else 2**31


@pytest.mark.parametrize("column", ["number", "epochs"])
@pytest.mark.parametrize("form", ["rows", "frame", "float"])
def test_a_number_or_epochs_the_store_cannot_hold_is_refused_naming_it_and_records_nothing(url, monkeypatch, column, form):
    """Above the store's INTEGER (e.g. number=2**63 on SQLite) was a raw OverflowError (SQLite) or a StorageError
    quoting the driver (PostgreSQL), raised by the insert; now a clear error before it, and the chunks inserted
    before the bad one are removed."""
    monkeypatch.setattr(_ingest, "CHUNK", 2)
    big = _too_big(url)
    kb = KnowledgeBase(url)
    kept = kb.ingest(_rows([None]), task="t", space=SPACE, name="kept")
    good = big - 1 if form != "float" else 5  # (2**63 - 1 as a float is 2**63)
    col = [0, 1, 2, big] if column == "number" else [1, good, 3, big]
    rows = [{"arch": ARCH.to_dict(), "value": 0.5, "number": i, column: v} for i, v in enumerate(col)]
    trials = rows
    if form == "frame":  # uint64 above int64, an object column otherwise
        trials = pd.DataFrame(rows)
        trials[column] = pd.Series(col, dtype=np.uint64 if big > 2**62 else np.int64)
    elif form == "float":
        trials = pd.DataFrame(rows).astype({column: float})
        big = float(big)
    allowed = "an int from 0 to" if column == "number" else "a whole number from 0 to"
    with pytest.raises(nasbook.InvalidParameterError,
                       match=rf"trial 3's {column} should be {allowed} {big_max(url)} \(the largest a (SQLite|PostgreSQL) "
                             rf"INTEGER holds\).*got {re.escape(repr(big))}\. Nothing was recorded\."):
        kb.ingest(trials, task="t", space=SPACE, name="big")
    assert [s.name for s in kb.storage.list_searches()] == [kept]
    assert len(kb.trials(states=None)) == 1
    kb.close()


def big_max(url):
    return _too_big(url) - 1


def test_the_largest_number_and_epochs_the_store_holds_are_stored(url):
    kb = KnowledgeBase(url)
    top = big_max(url)
    name = kb.ingest([{"arch": ARCH, "value": 0.5, "number": top, "epochs": top}], task="t", space=SPACE)
    row = kb.trials(search=name).iloc[0]
    assert (row["number"], row["epochs"]) == (top, top)
    kb.close()


@pytest.mark.parametrize("column", ["number", "epochs"])
def test_importing_a_file_with_a_number_postgresql_cannot_hold_is_refused_naming_it(postgres_url, tmp_path, column):
    """A file exported from SQLite (64-bit INTEGER) with number or epochs 2**40, imported into PostgreSQL (32-bit):
    psycopg's NumericValueOutOfRange reached the user unwrapped; now a clear error before anything is written."""
    with KnowledgeBase(str(tmp_path / "kb.db")) as src:
        src.ingest([{"arch": ARCH, "value": 0.5, "number": 3, "epochs": 2}, {"arch": ARCH, "value": 0.6, "number": 4,
                    column: 2**40}], task="t", space=SPACE, name="big")
        src.export(tmp_path / "kb.parquet")
    with KnowledgeBase(postgres_url) as kb:
        with pytest.raises(nasbook.InvalidParameterError,
                           match=rf"import_parquet\(path=...\): trial {2**40 if column == 'number' else 4} of search 'big' "
                                 rf"in .* has {column} {2**40}; this store holds whole numbers from -2147483648 to "
                                 rf"2147483647 \(the largest a PostgreSQL INTEGER holds\)\. Nothing was imported\."):
            kb.import_parquet(tmp_path / "kb.parquet")
        assert len(kb.searches) == 0 and len(kb.trials(states=None)) == 0
