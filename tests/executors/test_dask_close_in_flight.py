"""``close()`` from another thread while trials train on dask workers: they are cancelled at the loop's next turn
and stored QUEUED (run first by the next ``run()``), not trained to their end (it used to wait for them)."""

import time

import pytest

import nasbook
from nasbook.space import ChainSpace
from nasbook.storage import open_storage
from nasbook.testing import ToyTask

pytest.importorskip("distributed")

SAFETY_S = 120.0  # only how long a wait gives up after (a broken run), never what the test measures


@pytest.mark.slow
def test_close_cancels_the_trials_on_workers_and_stores_them_queued(tmp_path):
    from nasbook.executors import DaskExecutor

    space = ChainSpace(kind="mlp")
    db = tmp_path / "d.db"
    # 300 epochs of 0.2 s: a minute per trial, far longer than the test waits for anything
    s = nasbook.Search(space, ToyTask(space, epochs=300, epoch_s=0.2), budget=4, seed=0, storage=db, name="d",
                       executor=DaskExecutor(n_workers=2))
    s.start(progress="none")
    deadline = time.monotonic() + SAFETY_S
    while len(s.running) < 2 or min(e for e, _ in s.running.values()) < 1:  # both in flight, past their first epoch
        assert time.monotonic() < deadline, "the trials never started"
        time.sleep(0.05)
    s.close()
    assert s.state.value == "interrupted" and not s.running and s.n_trials == 0 and s.wait() is s
    stored = open_storage(db, create=False)
    try:
        trials, _ = stored.load_trials(s._search_id, space)
        assert [(t.number, t.state.value) for t in trials] == [(0, "queued"), (1, "queued")]
        assert stored.get_search("d").state == "interrupted"
    finally:
        stored.close()
    resumed = nasbook.load_search("d", str(db), task=ToyTask(space, epochs=2), executor="local", allow_changes=True)
    resumed.run(progress="none")  # the queued trials run first, under their numbers
    assert [(t.number, t.state.value) for t in resumed.trials] == [(n, "complete") for n in range(4)]
    resumed.close()
