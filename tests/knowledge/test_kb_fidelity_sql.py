"""The top-fidelity rule has one SQL definition (``nasbook.storage.top_fidelity_trials``): the best per task
(``kb.tasks``), the stored ranks' cells and the multi-fidelity check all count what ``top_fidelity`` on
``kb.trials()`` counts (complete, finite, at the search's most epochs), on SQLite and PostgreSQL alike."""

import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import nasbook
from nasbook.knowledge import top_fidelity
from nasbook.space import GraphSpace
from nasbook.storage import mixed_fidelity_tasks, top_fidelity_cells

SPACE = GraphSpace()


def _archs(n):
    rng = np.random.default_rng(102)
    return list({a.id: a for a in (SPACE.sample(rng) for _ in range(4 * n))}.values())[:n]


def _rows(archs, spec):
    return [{"arch": archs[i], "epochs": e, "value": v} for i, e, v in spec]


@pytest.fixture
def kb(url):
    a = _archs(8)
    with nasbook.KnowledgeBase(url) as kb:
        # an infinite value (a diverged loss stored as inf, a broken metric) at the most epochs counts nowhere:
        # not as the best, not as the search's top epochs
        kb.ingest(_rows(a, [(0, 9, math.inf), (1, 3, 0.8), (2, 3, 0.5), (3, 1, 0.99)]), task="t-inf", space=SPACE,
                  name="inf")
        kb.ingest(_rows(a, [(0, 1, 0.3), (1, 1, 0.35), (4, 1, 0.97), (0, 3, 0.6), (1, 3, 0.62), (0, 9, 0.7),
                            (1, 9, 0.9)]), task="t-asha", space=SPACE, name="asha")
        kb.ingest(_rows(a, [(5, 9, 0.4), (6, 9, 0.45)]), task="t-asha", space=SPACE, name="asha-plain")
        kb.ingest([{"arch": a[i], "value": v} for i, v in [(2, 0.2), (7, 0.1), (5, -math.inf)]], task="t-min",
                  space=SPACE, name="plain-min", mode="min")
        yield kb


def _counted(kb):
    t = top_fidelity(kb.trials())
    return t[np.isfinite(t["value"].astype(float)) & (t["state"] == "complete")]


def test_best_per_task_counts_what_the_ranks_count(kb):
    best = kb.tasks.set_index("task")
    counted = _counted(kb)
    for task, mode in [("t-inf", "max"), ("t-asha", "max"), ("t-min", "min")]:
        rows = counted[counted["task"] == task]
        want = rows.loc[rows["value"].idxmax() if mode == "max" else rows["value"].idxmin()]
        assert (best.loc[task, "best"], best.loc[task, "best_arch_id"]) == (want["value"], want["arch_id"])
    assert best.loc["t-inf", "best"] == 0.8 and best.loc["t-min", "best"] == 0.1  # not inf, not -inf


def test_the_ranks_cells_and_the_multi_fidelity_check_follow_the_same_rule(kb):
    conn = kb.storage.conn
    trials = kb.trials()
    space_id = str(trials["space_id"].iloc[0])
    nos = {int(no): str(arch_id) for no, arch_id in conn.execute(sa.text(
        "SELECT no, arch_id FROM nasbook_space_archs WHERE space_id = :sp"), {"sp": space_id}).all()}
    sids = {str(r.name): int(r.id) for r in kb.storage.list_searches()}
    counted = _counted(kb)
    keys = {}
    for key, rows in counted.groupby("task_key"):
        want = rows.groupby(["arch_id", "search"])["value"].agg(["max", "min"])
        got = pd.DataFrame([(nos[no], next(n for n, i in sids.items() if i == sid), hi, lo)
                            for no, sid, hi, lo in top_fidelity_cells(conn, space_id, str(key))],
                           columns=["arch_id", "search", "max", "min"]).set_index(["arch_id", "search"])
        pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False)
        keys[str(rows["task"].iloc[0])] = str(key)
    assert mixed_fidelity_tasks(conn, space_id, list(keys.values())) == {keys["t-inf"], keys["t-asha"]}
    assert mixed_fidelity_tasks(conn, space_id, [keys["t-min"]]) == set()
    conn.commit()
