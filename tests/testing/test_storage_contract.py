"""The storage contract catches broken backends (it would be worthless if it passed anything)."""

import dataclasses

import pytest

from nasbook._errors import StorageError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import Storage
from nasbook.testing import StorageContract

FAILED = (Exception, pytest.fail.Exception)  # an assertion, pytest.fail or an error: the contract test fails


class DropsMetrics(Storage):
    def add_trial(self, search_id, trial, *, tell_seq=None):
        super().add_trial(search_id, dataclasses.replace(trial, metrics={}), tell_seq=tell_seq)


class LosesNaN(Storage):
    def add_trial(self, search_id, trial, *, tell_seq=None):
        metrics = {k: (None if v != v else v) for k, v in trial.metrics.items()}
        super().add_trial(search_id, dataclasses.replace(trial, metrics=metrics), tell_seq=tell_seq)


class DropsLineage(Storage):
    def add_trial(self, search_id, trial, *, tell_seq=None):
        super().add_trial(search_id, dataclasses.replace(trial, lineage=()), tell_seq=tell_seq)


class UpdateKeepsOldLineage(Storage):
    def update_trial(self, search_id, trial, *, tell_seq=None):
        old = {t.number: t for t in self.load_trials(search_id, GraphSpace(ops=PROTEINS_OPS))[0]}
        lineage = old[trial.number].lineage if trial.number in old else trial.lineage
        super().update_trial(search_id, dataclasses.replace(trial, lineage=lineage), tell_seq=tell_seq)


class OutOfOrder(Storage):
    def load_trials(self, search_id, space):
        trials, tell_seq = super().load_trials(search_id, space)
        return trials[::-1], tell_seq


class AcceptsDuplicates(Storage):
    def add_trial(self, search_id, trial, *, tell_seq=None):
        try:
            super().add_trial(search_id, trial, tell_seq=tell_seq)
        except StorageError:
            super().update_trial(search_id, trial, tell_seq=tell_seq)


class LeaseNeverRefuses(Storage):
    def acquire_lease(self, search_id, owner, *, ttl_s=60.0):
        self._search_name(search_id)

    def renew_lease(self, search_id, owner):
        pass


class LeaseNeverExpires(Storage):
    def acquire_lease(self, search_id, owner, *, ttl_s=60.0):
        super().acquire_lease(search_id, owner, ttl_s=1e12)


class ForgetsOnClose(Storage):
    def close(self):
        if self._target.path is not None:
            self.conn.exec_driver_sql("DELETE FROM nasbook_trials")
            self.conn.commit()
        super().close()


class DeletesFinishedTrials(Storage):
    def delete_trials(self, search_id, numbers):
        self.conn.exec_driver_sql(
            "DELETE FROM nasbook_trials WHERE search_id = ? AND number IN ({})".format(",".join("?" * len(numbers))),
            (search_id, *numbers),
        ) if numbers else None
        self.conn.commit()


class IgnoresOwner(Storage):  # a custom storage written before schema 5: writes whatever the row holds
    def update_trial(self, search_id, trial, *, tell_seq=None, owner=None):
        super().update_trial(search_id, trial, tell_seq=tell_seq)


class UpdateSearchWithoutOwner(Storage):  # written before update_search took owner= (a run only warns)
    def update_search(self, search_id, *, state=None, config=None, elapsed_s=None):
        super().update_search(search_id, state=state, config=config, elapsed_s=elapsed_s)


class UpdateSearchDropsOwner(Storage):  # takes owner=, so no warning, but writes over another run's lease
    def update_search(self, search_id, *, state=None, config=None, elapsed_s=None, owner=None):
        super().update_search(search_id, state=state, config=config, elapsed_s=elapsed_s)


@pytest.mark.parametrize(
    ("broken", "contract_test"),
    [
        (DropsMetrics, "test_trials_round_trip"),
        (LosesNaN, "test_trials_round_trip"),
        (DropsLineage, "test_trials_round_trip"),
        (UpdateKeepsOldLineage, "test_update_trial_overwrites_the_row"),
        (OutOfOrder, "test_trials_come_back_in_number_order"),
        (AcceptsDuplicates, "test_a_stored_number_is_refused"),
        (LeaseNeverRefuses, "test_a_lease_admits_one_owner_at_a_time"),
        (LeaseNeverExpires, "test_an_expired_lease_is_taken_over"),
        (ForgetsOnClose, "test_committed_trials_survive_close_and_reopen"),
        (DeletesFinishedTrials, "test_delete_trials_removes_only_unfinished_ones"),
        (IgnoresOwner, "test_a_runs_write_applies_only_to_its_own_unfinished_row"),
        (UpdateSearchWithoutOwner, "test_a_runs_search_write_applies_only_while_it_holds_the_lease"),
        (UpdateSearchDropsOwner, "test_a_runs_search_write_applies_only_while_it_holds_the_lease"),
    ],
)
def test_the_contract_catches_a_broken_storage(tmp_path, monkeypatch, broken, contract_test):
    space = GraphSpace(ops=PROTEINS_OPS)

    def run(cls):
        st = cls(tmp_path / f"{cls.__name__}.db")
        method = getattr(StorageContract(), contract_test)
        try:
            with monkeypatch.context() as mp:
                kwargs = {"monkeypatch": mp} if "monkeypatch" in method.__code__.co_varnames else {}
                if "space" in method.__code__.co_varnames:
                    kwargs["space"] = space
                method(st, **kwargs)
        finally:
            st.close()

    run(Storage)  # the same contract test passes on the real storage...
    with pytest.raises(FAILED):
        run(broken)  # ...and fails on the broken one


def test_the_contract_needs_a_storage_fixture():
    with pytest.raises(NotImplementedError, match="storage"):
        StorageContract.storage.__wrapped__(StorageContract())
