"""How long ``search.close()`` from another thread takes while trials are in flight, and what it leaves stored.

``close()`` used to stop the run as ``stop()`` does and wait for the trials in flight to train to their end
(minutes of Lightning). It now stops a trial training in the run's process at its next report, and cancels
one on a dask worker at the loop's next turn (``nasbook/search/_background.py``, ``Closing``).

A ``ToyTask(epochs=E, epoch_s=S)`` search (a simulated training of E epochs of S seconds each, reporting every
epoch) is started in the background; once every trial in flight has reported its first epoch, ``close()`` is
called and timed. Printed per executor (``local``: one trial in this process; ``dask``: a 2-worker
``LocalCluster``, started before and not timed): the seconds ``close()`` took, the remaining training of the
trials in flight it did not wait for (E x S minus what they had trained), and the states stored afterwards.
Run against the old tree to compare (``PYTHONPATH=/tmp/old nasbook``).

Usage::

    python benchmarks/close_in_flight.py [--epochs 50] [--epoch-s 0.2] [--executors local dask]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import nasbook
from nasbook.space import ChainSpace
from nasbook.storage import open_storage
from nasbook.testing import ToyTask


def one(executor: str, epochs: int, epoch_s: float, folder: str) -> None:
    space = ChainSpace(kind="mlp")
    db = os.path.join(folder, f"{executor}.db")
    ex: object = "local"
    if executor == "dask":
        from nasbook.executors import DaskExecutor

        ex = DaskExecutor(n_workers=2)
    s = nasbook.Search(space, ToyTask(space, epochs=epochs, epoch_s=epoch_s), budget=6, seed=0, storage=db,
                       name=executor, executor=ex)
    s.start(progress="none")
    want = 1 if executor == "local" else 2
    deadline = time.monotonic() + 300
    while len(s.running) < want or min(e for e, _ in s.running.values()) < 1:
        if time.monotonic() > deadline:
            raise SystemExit(f"{executor}: the trials never started")
        time.sleep(0.02)
    trained = {n: e + 1 for n, (e, _) in s.running.items()}
    t0 = time.monotonic()
    s.close()
    took = time.monotonic() - t0
    left = max((epochs - e) * epoch_s for e in trained.values())
    st = open_storage(db, create=False)
    try:
        stored, _ = st.load_trials(s._search_id, space)
    finally:
        st.close()
    states = [f"{t.number}:{t.state.value}" for t in stored] or ["none"]
    print(f"{executor:6s} close() {took:6.2f} s; training left in flight ~{left:5.1f} s; state {s.state.value}; "
          f"stored {' '.join(states)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--epoch-s", type=float, default=0.2)
    ap.add_argument("--executors", nargs="+", default=["local", "dask"], choices=["local", "dask"])
    args = ap.parse_args()
    print(f"nasbook {nasbook.__version__} from {os.path.dirname(nasbook.__file__)}; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        for executor in args.executors:
            one(executor, args.epochs, args.epoch_s, folder)


if __name__ == "__main__":
    main()
