"""The loop's SQL per trial does not grow with the trials already stored: no query reads the whole table
per trial. Counted on the store's SQLite connection (the trace callback sees both SQLAlchemy's statements
and the hot path's raw ones, which SQLAlchemy's ``before_cursor_execute`` event does not)."""

import warnings

import pytest
import sqlalchemy as sa

import nasbook
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask


def _search(kind, path, budget):
    if kind == "asha":
        space = CellSpace()
        return nasbook.Search(space, ToyTask(space, epochs=9), strategy=ASHA(max_epochs=9), budget=budget, seed=100,
                              storage=path, name=kind)
    return nasbook.Search(NasBenchGraph("cora"), strategy=kind, budget=budget, seed=100, storage=path, name=kind)


@pytest.mark.parametrize("kind", ["random", "evolution", "asha"])
def test_statements_per_trial_stay_flat(kind, tmp_path):
    search = _search(kind, str(tmp_path / "s.db"), 400)
    statements = []
    seen = []
    search.storage.conn.connection.dbapi_connection.set_trace_callback(statements.append)
    # SQLAlchemy's own statements too (none of them runs per trial when the hot path serves the writes)
    sa_statements = []
    sa.event.listen(search.storage.engine, "before_cursor_execute", lambda *a: sa_statements.append(a[2]))
    search.callbacks.append(lambda s, t: seen.append((len(statements), len(sa_statements))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.run(progress="none")
    assert len(seen) == 400

    def per_trial(a, b, i):
        return (seen[b][i] - seen[a][i]) / (b - a)

    early, late = per_trial(20, 120, 0), per_trial(300, 399, 0)
    assert early == late and 0 < late <= 6  # BEGIN, the trial, three warm-start aggregate upserts, COMMIT
    assert per_trial(20, 120, 1) == per_trial(300, 399, 1)
    reads = [q for q in statements[seen[300][0]:seen[399][0]] if q.lstrip().upper().startswith("SELECT")]
    assert reads == []  # no read of the store per trial
