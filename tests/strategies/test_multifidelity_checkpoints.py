"""The checkpoints a multi-fidelity search keeps: only those a promotion may still continue, on disk next to a
SQLite store (so a search resumed in a new process continues them), and the same decisions as keeping all."""

import pytest

import nasbook
from nasbook.search._checkpoints import CheckpointDir
from nasbook.space import CellSpace
from nasbook.strategies import ASHA, CurveStopping, Hyperband, SuccessiveHalving
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}
STRATEGIES = {
    "asha": lambda: ASHA(**KW),
    "sh": lambda: SuccessiveHalving(**KW),
    "hyperband": lambda: Hyperband(**KW),
    "curve-asha": lambda: CurveStopping(base=ASHA(**KW), predictor="last-value", k=3),
}


def _decisions(s):
    return [(t.number, t.arch.id, t.epochs, t.parent, t.state.value, t.metrics.get("epochs_run")) for t in s.trials]


def _continued(s):
    """Every promotion trained only its extra epochs (its parent's checkpoint was there)."""
    by = {t.number: t for t in s.trials}
    promoted = [t for t in s.trials if t.parent is not None]
    assert promoted
    return all(t.metrics["epochs_run"] == t.epochs - by[t.parent].epochs for t in promoted)


class _Stop(Exception):
    pass


def _cut_at_40(path, **kw):
    """An ASHA search of 120 trials on ``path``, interrupted after trial 40 (as Ctrl-C would); ``kw`` to Search."""
    task = ToyTask(SPACE, epochs=9)

    def stop(search, trial):
        if trial.number == 40:
            raise _Stop

    cut = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=120, seed=5, storage=path, name="a", callbacks=[stop], **kw)
    with pytest.raises(_Stop):
        cut.run(progress="none")
    return task, cut


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_the_same_trials_as_keeping_every_checkpoint_and_only_the_promotable_ones_held(kind, monkeypatch):
    task = ToyTask(SPACE, epochs=9)
    peak = []
    run = nasbook.Search(SPACE, task, strategy=STRATEGIES[kind](), budget=150, seed=3, storage=":memory:",
                         callbacks=[lambda s, t: peak.append(len(s._checkpoints))]).run(progress="none")
    assert _continued(run)
    strategy = run.strategy.base_ if kind == "curve-asha" else run.strategy
    held = set(run._checkpoints)
    if kind in ("asha", "curve-asha"):  # the results below the top rung not promoted yet
        promotable = {n for k in range(len(strategy.rungs_) - 1) for a, (_, n, _) in strategy.results_[k].items()
                      if a not in strategy.promoted_[k]}
        assert held == promotable
        top = {t.number for t in run.trials if t.epochs == 9}
        assert top and not held & top  # a trial at max_epochs is never continued
    else:  # one rung of one bracket at most
        biggest = max(n for n, _ in strategy.cycle_)
        assert max(peak) <= biggest < 30

    def keep_all(self):
        return None

    for cls in (ASHA, SuccessiveHalving):  # the old behaviour: every checkpoint kept
        monkeypatch.setattr(cls, "checkpoints_needed", keep_all)
    everything = nasbook.Search(SPACE, task, strategy=STRATEGIES[kind](), budget=150, seed=3,
                                storage=":memory:").run(progress="none")
    assert _decisions(everything) == _decisions(run)
    assert len(everything._checkpoints) > len(held)


def test_curve_stopping_keeps_checkpoints_as_its_base_does():
    assert CurveStopping(base=ASHA()).keeps_checkpoints and CurveStopping(base="hyperband").keeps_checkpoints
    assert not CurveStopping(base="random").keeps_checkpoints
    assert CurveStopping(base="random").setup(SPACE, seed=0).checkpoints_needed() is None


def test_asha_resumed_in_a_new_process_continues_the_checkpoints_written_before(tmp_path):
    """The checkpoints live next to the SQLite file: a ``load_search`` (a new process) finds them, so a promotion
    of a trial finished before the interruption continues it instead of training from scratch."""
    path = tmp_path / "a.db"
    task, cut = _cut_at_40(path)
    assert isinstance(cut._checkpoints, CheckpointDir)
    on_disk = set(cut._checkpoints)
    assert on_disk and on_disk == cut.strategy.checkpoints_needed()
    cut.close()
    resumed = nasbook.load_search("a", path, task=task, space=SPACE)
    resumed.run(progress="none")
    late = [t for t in resumed.trials if t.number > 40 and t.parent is not None and t.parent <= 40]
    assert late, "no promotion after the resume of a trial finished before it"
    assert _continued(resumed)
    whole = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=120, seed=5, storage=":memory:").run(progress="none")
    assert _decisions(resumed) == _decisions(whole)
    assert set(resumed._checkpoints) == resumed.strategy.checkpoints_needed()
    resumed.close()


def test_a_checkpoint_dir_prunes_without_reading_its_folder(tmp_path, monkeypatch):
    store = CheckpointDir(tmp_path)
    store[1], store[2] = b"a", b"b"
    again = CheckpointDir(tmp_path)  # what a resumed search finds
    assert again.held() == {1, 2}
    monkeypatch.setattr(CheckpointDir, "_numbers", lambda self: pytest.fail("a folder read per prune"))
    del again[1]
    again[3] = b"c"
    assert again.held() == {2, 3}


def test_epochs_spent_counts_promotions_that_lost_their_checkpoint_as_trained_from_scratch(tmp_path):
    """A store that keeps no checkpoint for a resumed search (its folder gone, as on a server database): the
    promotions of trials finished before the resume train from scratch, and the epoch budget counts what they trained."""
    import shutil

    path = tmp_path / "a.db"
    task, cut = _cut_at_40(path)
    folder = cut._checkpoints.path
    cut.close()
    shutil.rmtree(folder)
    resumed = nasbook.load_search("a", path, task=task, space=SPACE)
    with pytest.warns(nasbook.NasbookWarning, match=r"is not there .* made again .* from scratch"):  # said, once
        resumed.run(progress="none")
    by = {t.number: t for t in resumed.trials}
    scratch = [t for t in resumed.trials if t.parent is not None and t.metrics["epochs_run"] == t.epochs]
    assert scratch and all(by[t.parent].epochs for t in scratch), "no promotion trained from scratch after the resume"
    assert resumed.epochs_spent == sum(t.metrics["epochs_run"] for t in resumed.trials)
    assert resumed.epochs_spent > sum(t.epochs - (by[t.parent].epochs if t.parent is not None else 0)
                                      for t in resumed.trials)  # what the parents' epochs alone would say
    reread = nasbook.load_search("a", path, task=task, space=SPACE)  # the count replayed from the store agrees
    assert reread.epochs_spent == resumed.epochs_spent
    resumed.close()
    reread.close()
