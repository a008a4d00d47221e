"""``plot_history(x="epochs")`` and ``search.epochs_spent`` count a trial's epochs with one function
(:meth:`nasbook.trial.Trial.epochs_trained`), so they agree where the task's own count (``epochs_run``) differs
from "its epochs beyond its parent's": a promotion whose parent's checkpoint was gone trained from scratch."""

import shutil

import numpy as np
import pytest

import nasbook
import nasbook.viz
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = CellSpace()


class _Stop(Exception):
    pass


def test_history_in_epochs_ends_at_epochs_spent_when_promotions_trained_from_scratch(tmp_path):
    path, task = tmp_path / "a.db", ToyTask(SPACE, epochs=9)

    def stop(search, trial):
        if trial.number == 12:
            raise _Stop

    cut = nasbook.Search(SPACE, task, strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=30, seed=5,
                         storage=path, name="a", callbacks=[stop])
    with pytest.raises(_Stop):
        cut.run(progress="none")
    folder = cut._checkpoints.path
    cut.close()
    shutil.rmtree(folder)  # the promotions of the trials finished so far now train from scratch
    resumed = nasbook.load_search("a", path, task=task, space=SPACE)
    try:
        with pytest.warns(nasbook.NasbookWarning, match=r"is not there .* from scratch"):
            resumed.run(progress="none")
        by = {t.number: t for t in resumed.trials}
        scratch = [t for t in resumed.trials if t.parent is not None and t.metrics["epochs_run"] == t.epochs]
        assert scratch and all(by[t.parent].epochs for t in scratch), "no promotion trained from scratch"
        assert resumed.epochs_spent == sum(t.metrics["epochs_run"] for t in resumed.trials)
        xs = nasbook.viz.history_info(resumed, x="epochs")["epochs"].values.ravel()  # one search
        assert float(xs.max()) == resumed.epochs_spent  # before: fewer, the scratch promotions' parents' epochs off
        expected, spent = [], 0
        for t in resumed.trials:  # each point: the epochs spent up to and including that trial
            spent += t.epochs_trained(by.get(t.parent) if t.parent is not None else None)
            expected.append(spent)
        assert list(xs) == expected
    finally:
        resumed.close()


def test_epochs_trained_reads_the_tasks_count_then_the_parents_epochs_and_adds_lost_attempts():
    arch = SPACE.sample(np.random.default_rng(0))

    def trial(epochs, attrs=None, metrics=None, parent=None):
        return Trial(1, arch, TrialState.COMPLETE, 0.5, metrics or {}, attrs or {}, epochs=epochs, parent=parent)

    parent = trial(3)
    assert parent.epochs_trained() == 3
    assert trial(9, parent=0).epochs_trained(parent) == 6  # a continuation: its extra epochs
    assert trial(9, metrics={"epochs_run": 9}, parent=0).epochs_trained(parent) == 9  # trained from scratch
    assert trial(9, attrs={"epochs_run": 9}, parent=0).epochs_trained(parent) == 9
    assert trial(9, attrs={"epochs_run": 12}, parent=0).epochs_trained(parent) == 6  # not believed past its epochs
    assert trial(5, attrs={"lost_attempt_epochs": 3}).epochs_trained() == 8  # and what lost attempts trained
    assert trial(None).epochs_trained() == 0


def test_history_in_epochs_ends_at_epochs_spent_while_a_trial_that_lost_epochs_waits(tmp_path):
    """A trial re-queued with epochs its lost dask attempts trained has no result, so no point; the history ends at
    ``epochs_spent`` with a last step (trial -1, value NaN, the best unchanged) that holds them, and says so."""
    pytest.importorskip("hvplot")
    path, task = tmp_path / "w.db", ToyTask(SPACE, epochs=5)
    s = nasbook.Search(SPACE, task, strategy="random", budget=3, seed=0, storage=path, name="w")
    s.run(progress="none")
    arch = SPACE.sample(np.random.default_rng(1))  # a trial running when its process died, 3 epochs lost with a worker
    s.storage.add_trial(s._search_id, Trial(3, arch, TrialState.RUNNING, None, {}, {"lost_attempt_epochs": 3}, epochs=5,
                                            n_told_before=3))
    s.close()
    loaded = nasbook.load_search("w", path, task=task)
    try:
        assert loaded.epochs_spent == 15 + 3
        ds = nasbook.viz.history_info(loaded, x="epochs")
        xs = ds["epochs"].values[0]
        assert list(xs) == [5.0, 10.0, 15.0, 18.0] and float(xs[-1]) == loaded.epochs_spent  # before: ended at 15
        assert list(ds["trial"].values[0]) == [0, 1, 2, -1] and np.isnan(ds["value"].values[0][-1])
        assert ds["best_so_far"].values[0][-1] == ds["best_so_far"].values[0][-2]
        assert int(ds["epochs_no_result"].sel(search="w")) == 3
        assert nasbook.viz.history_info(s, x="epochs")["epochs_no_result"].values.tolist() == [0]
        by_trials = nasbook.viz.history_info(loaded)  # other axes: no such step
        assert list(by_trials["trial"].values[0]) == [0, 1, 2] and "epochs_no_result" not in by_trials
        title = nasbook.viz.plot_history(loaded, x="epochs").opts.get().kwargs["title"]
        assert "last 3 epochs trained by lost attempts of trials with no result yet" in title
    finally:
        loaded.close()
