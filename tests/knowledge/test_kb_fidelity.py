"""A multi-fidelity search in the knowledge base: its quality aggregates (warm starts, the transfer prior,
per-task quantiles, the best per task) count only the trials at the search's most epochs; kb.trials() keeps all."""

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook.knowledge import TransferPrior, select_warm_start, task_quantiles, top_fidelity
from nasbook.space import GraphSpace
from nasbook.strategies import ASHA
from nasbook.tasks import DigitsTable

SPACE = GraphSpace()


def _archs(n):
    rng = np.random.default_rng(100)
    return list({a.id: a for a in (SPACE.sample(rng) for _ in range(4 * n))}.values())[:n]


def _asha_rows(archs):
    """An ASHA-style record (max_epochs=9, eta=3): P and Q promoted to 9 epochs, R1..R4 stopped after 1.
    R1's one-epoch value (a lucky one) is the largest value of the search; at 9 epochs Q beats P."""
    p, q, r1, r2, r3, r4 = archs
    rows = [(p, 1, 0.30), (q, 1, 0.35), (r1, 1, 0.99), (r2, 1, 0.10), (r3, 1, 0.20), (r4, 1, 0.25),
            (p, 3, 0.60), (q, 3, 0.62), (p, 9, 0.70), (q, 9, 0.90)]
    return [{"arch": a, "epochs": e, "value": v} for a, e, v in rows]


@pytest.fixture
def asha_kb(url):
    archs = _archs(6)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_asha_rows(archs), task="t-asha", space=SPACE, name="asha-1")
        yield kb, archs


def test_warm_start_counts_only_the_top_rung_of_an_asha_search(asha_kb):
    kb, (p, q, *_) = asha_kb
    assert len(kb.trials()) == 10  # the raw record keeps every rung
    got = kb.warm_start(SPACE, 3, diversify=False)  # the stored ranks decline: ranked from the trials
    assert [a.id for a, _ in got] == [q.id, p.id]  # R1 (0.99 after one epoch) is no warm start
    assert got[0][1]["tasks"]["t-asha"]["score"] == 0.90 and got[0][1]["tasks"]["t-asha"]["n"] == 2
    want = select_warm_start(kb.trials(), SPACE, 3, diversify=False)
    assert [(a.id, m) for a, m in got] == [(a.id, m) for a, m in want]


def test_transfer_prior_fits_only_the_top_rung_of_an_asha_search(asha_kb):
    kb, (p, q, *_) = asha_kb
    prior = TransferPrior(kb.trials(), SPACE, min_trials=2)
    assert prior.n_trials == {"t-asha": 2}  # P and Q once each, not R1..R4 nor P and Q's lower rungs


def test_best_per_task_is_the_best_top_rung_value(asha_kb):
    kb, (p, q, *_) = asha_kb
    best = kb.tasks.set_index("task").loc["t-asha"]
    assert (best["best"], best["best_arch_id"]) == (0.90, q.id)
    text = kb._repr_mimebundle_()["text/plain"]
    assert "0.9" in text and "0.99" not in text


def test_kb_searches_best_is_the_top_rung_as_kb_tasks_with_its_epochs(asha_kb):
    """``kb.searches`` showed R1's 0.99 (one epoch) as the ASHA search's best, ``kb.tasks`` Q's 0.90 (9 epochs)."""
    kb, (p, q, *_) = asha_kb
    search = kb.searches.set_index("search").loc["asha-1"]
    task = kb.tasks.set_index("task").loc["t-asha"]
    assert search["best"] == task["best"] == 0.90  # was 0.99 for the search
    assert (search["best_arch_id"], search["best_epochs"]) == (q.id, 9)
    assert (task["best"], task["best_arch_id"], task["best_epochs"]) == (0.90, q.id, 9)


def test_every_best_of_an_asha_search_is_its_top_rung_as_kb_searches(asha_kb, url, capsys):
    """``nasbook list``, ``Storage.list_searches``' best_value, ``Search.best`` and the search's repr showed R1's
    0.99 (one epoch) while ``kb.searches`` showed Q's 0.90 (9 epochs): one rule now gives every one of them."""
    from nasbook.cli import main

    kb, (p, q, *_) = asha_kb
    assert kb.searches.set_index("search").loc["asha-1", "best"] == 0.90
    assert [(r.name, r.best_value) for r in kb.storage.list_searches()] == [("asha-1", 0.90)]
    search = nasbook.load_search("asha-1", storage=url)
    assert (search.best.value, search.best.arch.id, search.best.epochs) == (0.90, q.id, 9)
    assert "best 0.9 (" in repr(search) and "0.99" not in repr(search)
    capsys.readouterr()
    assert main(["list", "--storage", url]) == 0
    row = next(line.split() for line in capsys.readouterr().out.splitlines() if "asha-1" in line)
    assert row[3] == "0.9"  # name, state, trials, best


def test_task_quantiles_count_only_the_top_rung(asha_kb):
    kb, (p, q, *_) = asha_kb
    per = task_quantiles(kb.trials())
    assert sorted(per["arch_id"]) == sorted([p.id, q.id]) and per["n_trials"].tolist() == [1, 1]
    near = kb.similar(q, k=5)  # every recorded architecture is a neighbour; only P has a top-rung score
    assert near.set_index("arch_id").loc[p.id, "value"] == 0.70
    assert near["value"].isna().sum() == 4


def test_single_fidelity_searches_still_come_from_the_stored_ranks_beside_a_multi_fidelity_task(tmp_path):
    archs = _archs(12)
    rng = np.random.default_rng(101)
    with nasbook.KnowledgeBase(str(tmp_path / "kb.db")) as kb:
        for t in ("t-a", "t-b"):
            kb.ingest([{"arch": a, "value": float(rng.random()), "epochs": 9} for a in archs], task=t, space=SPACE)
        kb.ingest([{"arch": a, "value": float(rng.random())} for a in archs], task="t-c", space=SPACE)
        trials = kb.trials
        kb.trials = lambda *a, **k: pytest.fail("single-fidelity tasks: the stored ranks answer")
        try:
            stored = kb.warm_start(SPACE, 5)
        finally:
            kb.trials = trials
        assert [a.id for a, _ in stored] == [a.id for a, _ in select_warm_start(kb.trials(), SPACE, 5)]
        kb.ingest(_asha_rows(archs[:6]), task="t-a", space=SPACE)  # t-a's stored best values would now mix rungs
        got = kb.warm_start(SPACE, 5)
        assert [(a.id, m) for a, m in got] == [(a.id, m) for a, m in select_warm_start(kb.trials(), SPACE, 5)]
        every = {a.id: m for a, m in kb.warm_start(SPACE, 40, diversify=False)}
        plain = kb.trials(task="t-a").query("epochs == 9 and arch_id == @archs[2].id")["value"].max()
        assert every[archs[2].id]["tasks"]["t-a"]["score"] == plain  # not R1's 0.99 after one epoch of the ASHA search


def test_top_fidelity_keeps_each_search_at_its_own_most_epochs_and_rows_without_epochs():
    df = pd.DataFrame({"search": ["a", "a", "a", "b", "b", "c", "a"],
                       "epochs": pd.array([1, 3, 3, 1, 1, None, None], dtype="Int64"),
                       "value": [0.1, 0.2, np.nan, 0.3, 0.4, 0.5, 0.6],
                       "state": ["complete", "complete", "complete", "complete", "complete", "complete", "complete"]})
    kept = top_fidelity(df)
    assert kept.index.tolist() == [1, 2, 3, 4, 5, 6]  # a's epoch-1 row goes; b (one fidelity) and c keep all
    df.loc[2, "epochs"] = 9  # a NaN at 9 epochs is no value: a's top stays 3
    assert top_fidelity(df).index.tolist() == [1, 3, 4, 5, 6]
    plain = df.drop(columns="epochs")
    assert top_fidelity(plain) is plain


def test_a_real_asha_search_gives_warm_starts_only_from_architectures_trained_the_most_epochs():
    with nasbook.KnowledgeBase(":memory:") as kb:
        task = DigitsTable()
        s = nasbook.Search(task, strategy=ASHA(max_epochs=9), budget=40, seed=100, kb=kb, storage=":memory:")
        s.run()
        t = kb.trials()
        full = set(t.loc[t["epochs"] == 9, "arch_id"])
        assert 2 <= len(full) < t["arch_id"].nunique()
        got = kb.warm_start(task.space, 10, diversify=False)
        assert {a.id for a, _ in got} == full
        prior = TransferPrior(t, task.space, min_trials=2)
        assert prior.n_trials == {task.name: len(full)}
