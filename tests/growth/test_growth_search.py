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

    strategy = Growth(population_size=3, sample_size=2, child_epochs=2, blend_length=4, gate_tolerance=0.5)
    cut = Search(space, task, strategy=strategy, budget=8, seed=0, storage=path, name="g", callbacks=[stop])
    with pytest.raises(Stop):
        cut.run(progress="none")
    folder = tmp_path / "g.db.checkpoints"
    on_disk = {p.name for p in folder.rglob("*.ckpt")}
    assert on_disk and len(on_disk) <= 3  # the population's checkpoints only
    resumed = load_search("g", path, task=task, space=space, strategy=Growth(
        population_size=3, sample_size=2, child_epochs=2, blend_length=4, gate_tolerance=0.5)).run(progress="none")
    grown = [t for t in resumed.trials if "seed0_stage" in t.metrics or (t.lineage and t.epochs == 2)]
    assert len(resumed.trials) == 8
    after = [t for t in grown if t.number > 4 and "growth_ready" in t.metrics]
    assert after, "a child proposed after the resume grew from a checkpoint written before it"
    assert "seed0=" in repr(after[0])
    assert len(list(folder.rglob("*.ckpt"))) <= 3


@pytest.mark.slow
def test_growth_runs_on_dask_workers(tmp_path):
    pytest.importorskip("distributed")
    from nasbook.executors import DaskExecutor

    space, task = _setup()
    strategy = Growth(population_size=2, sample_size=2, child_epochs=2, blend_length=4, gate_tolerance=0.5)
    with DaskExecutor(n_workers=1) as ex:
        search = Search(space, task, strategy=strategy, budget=6, seed=1, storage=tmp_path / "d.db", executor=ex)
        search.run(progress="none")
    grown = [t for t in search.trials if "growth_ready" in t.metrics]
    assert grown and all(t.epochs == 2 for t in grown)
