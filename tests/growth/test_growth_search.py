"""The Growth strategy on real training: children grow from their parents' checkpoints, which live in
the run's storage area, are deleted when no longer needed, and are still found after a resume."""

from __future__ import annotations

import pytest

from nasbook.search import Search, load_search
from nasbook.space import ChainSpace
from nasbook.strategies import Growth, get_strategy


def _setup():
    from nasbook.tasks import Digits

    space = ChainSpace(kind="mlp", max_depth=3, widths=(32, 64), ops=("relu", "tanh"))
    return space, Digits(max_epochs=2, lr=1e-2)


def test_growth_is_registered():
    assert isinstance(get_strategy("growth"), Growth)


@pytest.mark.slow
def test_children_grow_from_checkpoints_kept_on_disk_and_found_after_a_resume(tmp_path):
    pytest.importorskip("lightning")
    space, task = _setup()
    path = tmp_path / "g.db"

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 4:
            raise Stop

    strategy = Growth(population_size=3, sample_size=2, child_epochs=2, patience=1, blend_length=4, gate_tolerance=0.5)
    cut = Search(space, task, strategy=strategy, budget=8, seed=0, storage=path, name="g", callbacks=[stop])
    with pytest.raises(Stop):
        cut.run(progress="none")
    folder = tmp_path / "g.db.checkpoints"
    on_disk = {p.name for p in folder.rglob("*.ckpt")}
    assert on_disk and len(on_disk) <= 3  # the population's checkpoints only
    resumed = load_search("g", path, task=task, space=space, strategy=Growth(
        population_size=3, sample_size=2, child_epochs=2, patience=1, blend_length=4, gate_tolerance=0.5)).run(progress="none")
    grown = [t for t in resumed.trials if "seed0_stage" in t.metrics or (t.lineage and t.epochs == 2)]
    assert len(resumed.trials) == 8
    after = [t for t in grown if t.number > 4 and "growth_ready" in t.metrics]
    assert after, "a child proposed after the resume grew from a checkpoint written before it"
    seeded = [t for t in after if "seed0_stage" in t.metrics]  # (a widen child has no seed, only the lr cycle)
    assert seeded and "seed0=" in repr(seeded[0])
    assert len(list(folder.rglob("*.ckpt"))) <= 3


@pytest.mark.slow
def test_growth_runs_on_dask_workers(tmp_path):
    pytest.importorskip("distributed")
    from nasbook.executors import DaskExecutor

    space, task = _setup()
    strategy = Growth(population_size=2, sample_size=2, child_epochs=2, patience=1, blend_length=4, gate_tolerance=0.5)
    with DaskExecutor(n_workers=1) as ex:
        search = Search(space, task, strategy=strategy, budget=6, seed=1, storage=tmp_path / "d.db", executor=ex)
        search.run(progress="none")
    grown = [t for t in search.trials if "growth_ready" in t.metrics and t.parent is None]
    assert grown and all(t.epochs == 2 for t in grown)


@pytest.mark.slow
def test_a_winner_that_cannot_grow_continues_from_its_own_checkpoint():
    pytest.importorskip("lightning")
    from nasbook.tasks import Digits

    space = ChainSpace(kind="mlp", max_depth=1, widths=(32, 64), ops=("relu", "tanh"))  # [x 64] cannot grow
    strategy = Growth(population_size=2, sample_size=2, start_epochs=1, child_epochs=1, blend_length=4,
                      moves=("widen",))  # (a widen adds no seed: one epoch lets nothing wait)
    search = Search(space, Digits(max_epochs=3, lr=1e-2), strategy=strategy, budget=7, seed=0, storage=":memory:")
    search.run(progress="none")
    trials = {t.number: t for t in search.trials}
    more = [t for t in trials.values() if t.parent is not None]
    assert more and strategy.moves_used_["train"] == len(more)
    for t in more:  # the same network, trained one epoch beyond its parent's checkpoint
        parent = trials[t.parent]
        assert t.arch == parent.arch and t.arch["layers"][0][1] == 64
        assert t.epochs == parent.epochs + 1 and t.value is not None


def test_a_memory_search_rerun_after_an_exception_still_grows_from_checkpoints_kept_before_it():
    """A ``":memory:"`` search keeps its checkpoints in the object: the re-read of the store that a ``run()``
    after an exception makes used to drop them, so its children grew from scratch where the uninterrupted
    run grew them from their parents' weights (and the search departed from it)."""
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp", max_depth=3)

    class Recording(ToyTask):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.grown_from: list[tuple[str, int | None]] = []  # (arch id, parent trial when given its checkpoint)

        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            fid = fidelity or {}
            ckpt = fid.get("checkpoint")
            self.grown_from.append((arch.id, None if ckpt is None else len(ckpt)))
            return super().evaluate(arch, space=space, fidelity=fidelity, report=report)

    def strategy():
        return Growth(population_size=5, sample_size=2, start_epochs=4, child_epochs=4, train_more=False)

    full_task = Recording(space, epochs=4)
    Search(space, full_task, strategy=strategy(), budget=30, seed=11, storage=":memory:").run(progress="none")

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 12:
            raise Stop

    task = Recording(space, epochs=4)
    again = Search(space, task, strategy=strategy(), budget=30, seed=11, storage=":memory:", callbacks=[stop])
    with pytest.raises(Stop):
        again.run(progress="none")
    held = dict(again._checkpoints)
    assert held, "the population's checkpoints are held in memory"
    again.run(progress="none")
    assert task.grown_from == full_task.grown_from
    after = [t for t in again.trials if t.number > 12 and t.attrs.get("grow", {}).get("from", 99) in held]
    assert after, "children after the rerun grew from parents whose checkpoints were written before it"
    assert all(task.grown_from[t.number][1] is not None for t in after)


def test_a_continued_trials_parent_checkpoint_outlives_a_commit_that_failed():
    """The parent's checkpoint of a continued trial is dropped only once the continuation is committed: it was
    dropped before, so a commit that failed (a full disk, a store taken over) left the parent with no weights
    and the rerun continued it from scratch."""
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp", max_depth=3)
    search = Search(space, ToyTask(space, epochs=4), budget=30, seed=5, storage=":memory:",
                    strategy=Growth(population_size=4, sample_size=2, start_epochs=2, child_epochs=3))
    add_trial = search._storage.add_trial

    class Full(Exception):
        pass

    failed: list[int] = []

    def fail_first_continuation(sid, trial, **kw):
        if trial.parent is not None and not failed:
            failed.append(trial.parent)
            raise Full("disk full")
        return add_trial(sid, trial, **kw)

    search._storage.add_trial = fail_first_continuation
    with pytest.raises(Full):
        search.run(progress="none")
    assert failed, "a trial continued its parent"
    assert failed[0] in search._checkpoints, "the parent's weights are kept when its continuation was not stored"
    search._storage.add_trial = add_trial
    search.run(progress="none")
    continued = [t for t in search.trials if t.parent is not None]
    assert continued and all(t.parent not in search._checkpoints for t in continued)


@pytest.mark.gpu
def test_growth_trains_on_a_gpu():
    # parents trained on the GPU leave CPU checkpoints; children grown from them (weights moved on the CPU,
    # seeds' optimizers made once Lightning has moved the network) train on the GPU with their seeds
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from nasbook.tasks import Digits
    from nasbook.trial import TrialState

    space, _ = _setup()
    strategy = Growth(population_size=2, sample_size=2, child_epochs=2, patience=1, blend_length=4, gate_tolerance=0.5)
    search = Search(space, Digits(max_epochs=2, lr=1e-2, accelerator="cuda"), strategy=strategy, budget=6, seed=1,
                    storage=":memory:")
    search.run(progress="none")
    assert not [t.attrs.get("traceback") for t in search.trials if t.state is TrialState.FAILED]
    grown = [t for t in search.trials if "growth_ready" in t.metrics]  # children that trained with their seeds
    assert grown and all(t.epochs == 2 for t in grown)
