"""Real training searches: Lightning trials on digits, in-process and on a dask cluster."""

import importlib.util
import sqlite3

import pytest

import nasbook
from nasbook._errors import NasbookWarning
from nasbook.executors import DaskExecutor
from nasbook.search import TrialState
from nasbook.space import CellSpace, ChainSpace
from nasbook.strategies import ASHA
from nasbook.tasks import BreastCancer, Digits

# collecting this file imports neither torch nor Lightning: the trials import them where they run
pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")


def test_tiny_training_search_in_process(tmp_path):
    space = ChainSpace(kind="mlp", max_depth=2, widths=(16, 32))
    s = nasbook.Search(space, BreastCancer(max_epochs=3), strategy="random", budget=3, seed=0,
                       storage=tmp_path / "bc.db", name="bc").run()
    assert [t.state for t in s.trials] == [TrialState.COMPLETE] * 3
    assert all(t.epochs == 3 and len(t.curves["val_accuracy"]) == 3 for t in s.trials)
    assert s.best.value > 0.85 and "test_accuracy" in s.best.attrs
    again = nasbook.load_search("bc", tmp_path / "bc.db", task=BreastCancer(max_epochs=3))
    assert [t.curves for t in again.trials] == [t.curves for t in s.trials]
    ds = again.to_xarray()
    assert ds.sizes["trial"] == 3


def test_asha_continues_trained_networks_from_their_checkpoints(tmp_path):
    space = ChainSpace(kind="mlp", max_depth=2, widths=(16, 32))
    s = nasbook.Search(space, BreastCancer(max_epochs=4), strategy=ASHA(min_epochs=1, max_epochs=4, eta=2),
                       budget=7, seed=0, storage=":memory:").run()
    promoted = [t for t in s.trials if t.parent is not None]
    assert promoted, "ASHA promoted nothing"
    for t in promoted:
        parent = next(p for p in s.trials if p.number == t.parent)
        assert t.attrs["epochs_run"] == t.epochs - parent.epochs  # continued, not retrained
        assert t.curves["val_accuracy"][: parent.epochs] == parent.curves["val_accuracy"]


@pytest.mark.slow
def test_digits_cells_on_two_dask_workers(tmp_path):
    with DaskExecutor(n_workers=2) as ex:
        s = nasbook.Search(CellSpace(), Digits(max_epochs=2), strategy="evolution", budget=3, seed=0,
                           storage=tmp_path / "d.db", executor=ex).run()
    assert s.n_trials == 3 and all(t.state is TrialState.COMPLETE for t in s.trials)
    assert all(len(t.curves["val_accuracy"]) == 2 for t in s.trials)
    con = sqlite3.connect(tmp_path / "d.db")
    assert con.execute("SELECT count(*) FROM nasbook_trials WHERE state='complete'").fetchone()[0] == 3


@pytest.mark.slow
def test_sixteen_digits_networks_on_two_workers(tmp_path):
    """The issue's real search: 16 CellSpace networks trained on digits on a 2-worker cluster."""
    s = nasbook.Search(CellSpace(), Digits(max_epochs=3), strategy="evolution", budget=16, seed=0,
                       storage=tmp_path / "real.db", name="real", executor=DaskExecutor(n_workers=2))
    try:
        s.run()
    finally:
        s.close()
    assert s.n_trials == 16 and len({t.arch.id for t in s.trials}) == 16
    assert sum(t.state is TrialState.COMPLETE for t in s.trials) >= 15
    assert s.best.value > 0.9
    with pytest.warns(NasbookWarning, match=r"ran on DaskExecutor.*train in this process"):  # no executor given
        assert nasbook.load_search("real", tmp_path / "real.db").n_trials == 16
