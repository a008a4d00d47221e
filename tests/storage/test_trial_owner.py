"""A run's writes of a trial row apply only while the row is that run's (schema 5: nasbook_trials.owner):
the compare-and-set that keeps a run taken over by another process off the other run's rows, on SQLite and
PostgreSQL, and stores of schema 4 that gain the column when opened."""

import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

from nasbook._errors import StorageError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.storage import SCHEMA_VERSION, Storage, TrialTaken, claim_trials
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _trial(number, state=TrialState.RUNNING, value=None):
    return Trial(number, SPACE.sample(np.random.default_rng(number)), state, value, {}, {})


def _row(st, sid, number):
    t = {t.number: t for t in st.load_trials(sid, SPACE)[0]}[number]
    owner = st.conn.execute(sa.text("SELECT owner FROM nasbook_trials WHERE search_id = :s AND number = :n"),
                            {"s": sid, "n": number}).scalar()
    st.conn.commit()
    return t.state.value, t.value, owner


@pytest.fixture
def st(store_url):
    st = Storage(store_url)
    yield st
    st.close()


def test_a_runs_finishing_write_applies_only_to_its_own_unfinished_row(st):
    sid = st.create_search("s", {})
    st.add_trial(sid, _trial(0), owner="run-a")
    with pytest.raises(TrialTaken, match=r"trial 0 of search 's' .*no longer this run's.*stored: running.*\(complete\) was not applied") as info:
        st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.9), owner="run-b")
    assert (info.value.trial.value, info.value.stored_state, info.value.stored_value) == (0.9, "running", None)
    assert _row(st, sid, 0) == ("running", None, "run-a")  # nothing written
    st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.5), tell_seq=0, owner="run-a")  # its own: written
    assert _row(st, sid, 0) == ("complete", 0.5, "run-a")
    for state in (TrialState.COMPLETE, TrialState.QUEUED, TrialState.FAILED):  # finished: never written again by a run
        with pytest.raises(TrialTaken, match=r"stored: complete, value 0\.5"):
            st.update_trial(sid, _trial(0, state, 0.7 if state.has_value else None), owner="run-a")
    assert _row(st, sid, 0) == ("complete", 0.5, "run-a")
    with pytest.raises(StorageError, match="trial 7 .* is not stored") as info:
        st.update_trial(sid, _trial(7, TrialState.COMPLETE, 0.1), owner="run-a")
    assert not isinstance(info.value, TrialTaken)
    st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.6))  # without an owner: as before, whatever the row holds
    assert _row(st, sid, 0) == ("complete", 0.6, "run-a")


def test_a_claim_takes_unfinished_rows_only_and_shuts_their_old_run_out(st):
    sid = st.create_search("s", {})
    st.add_trial(sid, _trial(0), owner="run-a")
    st.add_trial(sid, _trial(1, TrialState.QUEUED), owner="run-a")
    st.add_trial(sid, _trial(2, TrialState.COMPLETE, 0.3), tell_seq=0, owner="run-a")
    st.add_trial(sid, _trial(3))  # no owner: stored by a nasbook before schema 5
    st.acquire_lease(sid, "run-b")  # a claim is made holding the search's lease (test_lease_mirror_claim.py)
    assert claim_trials(st, sid, [0, 1, 2, 3, 9], "run-b") == 3  # 2 is finished, 9 is not stored
    assert [_row(st, sid, n)[2] for n in range(4)] == ["run-b", "run-b", "run-a", "run-b"]
    with pytest.raises(TrialTaken):
        st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.9), owner="run-a")  # the overtaken run, too late
    for n in (0, 1, 3):
        st.update_trial(sid, _trial(n, TrialState.COMPLETE, 0.1 * n), owner="run-b")
    assert [_row(st, sid, n)[:2] for n in range(4)] == [("complete", 0.0), ("complete", 0.1), ("complete", 0.3),
                                                          ("complete", pytest.approx(0.3))]
    assert claim_trials(st, sid, [], "run-c") == 0


def test_a_schema_4_file_gains_the_owner_column_and_its_running_trial_is_claimed(tmp_path):
    path = tmp_path / "v4.db"
    st = Storage(path)
    sid = st.create_search("s", {})
    st.add_trial(sid, _trial(0))
    st.close()
    with sqlite3.connect(path) as con:  # what nasbook wrote before schema 5
        con.execute("ALTER TABLE nasbook_trials DROP COLUMN owner")
        con.execute("UPDATE nasbook_meta SET value = '4' WHERE key = 'schema_version'")
    st = Storage(path, create=False)
    with sqlite3.connect(path) as con:
        assert dict(con.execute("SELECT key, value FROM nasbook_meta"))["schema_version"] == SCHEMA_VERSION
        assert [r[1] for r in con.execute("PRAGMA table_info(nasbook_trials)")][-1] == "owner"
    assert _row(st, sid, 0) == ("running", None, None)
    with pytest.raises(TrialTaken):  # no run owns it until one claims it
        st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.4), owner="run-a")
    st.acquire_lease(sid, "run-a")
    assert claim_trials(st, sid, [0], "run-a") == 1
    st.update_trial(sid, _trial(0, TrialState.COMPLETE, 0.4), tell_seq=0, owner="run-a")
    assert _row(st, sid, 0) == ("complete", 0.4, "run-a")
    st.close()


# -- a Storage subclass of one's own, written without owner= ------------------------------------------------
def _owners(st, name):
    sid = st.get_search(name).id
    rows = st.conn.execute(sa.text("SELECT owner FROM nasbook_trials WHERE search_id = :s ORDER BY number"),
                           {"s": sid}).scalars().all()
    st.conn.commit()
    return rows


def test_a_storage_subclass_without_owner_runs_with_a_warning_that_says_what_to_add(tmp_path):
    import nasbook
    from nasbook.testing import ToyTask

    class Logged(Storage):  # written before schema 5: no owner= (it failed with a TypeError at the first trial)
        added: list[int] = []

        def add_trial(self, search_id, trial, *, tell_seq=None):
            self.added.append(trial.number)
            super().add_trial(search_id, trial, tell_seq=tell_seq)

    st = Logged(tmp_path / "logged.db")
    with pytest.warns(nasbook.NasbookWarning, match=r"Logged\.add_trial takes no owner=.*owner=None") as caught:
        s = nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=100, storage=st, name="a").run(progress="none")
    assert caught[0].filename == __file__  # points at the user's Search(...)
    assert s.n_trials == 3 and Logged.added == [0, 1, 2]
    assert _owners(st, "a") == [None, None, None]  # written without the token: no compare-and-set
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per class
        nasbook.load_search("a", st, task=ToyTask(SPACE), budget=4).run(progress="none")
    assert Logged.added == [0, 1, 2, 3]
    st.close()


def test_a_storage_subclass_that_takes_owner_or_kwargs_gets_the_token(tmp_path):
    import warnings

    import nasbook
    from nasbook.testing import ToyTask

    class Passing(Storage):
        def add_trial(self, search_id, trial, **kwargs):
            super().add_trial(search_id, trial, **kwargs)

    st = Passing(tmp_path / "passing.db")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=st, name="b").run(progress="none")
    assert _owners(st, "b") == [s._owner] * 2
    st.close()
