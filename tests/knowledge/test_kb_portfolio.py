"""Search(kb=kb, strategy=Portfolio(...)): the prior comes from the kb's record of which strategy won similar tasks."""

import pytest

import nasbook
from nasbook.knowledge import nbg_meta_features
from nasbook.strategies import Portfolio
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def kb():
    kb = nasbook.KnowledgeBase(":memory:")
    # on each past task, evolution and random searched; the kb records which one found the better architecture
    for d in ("cora", "citeseer", "pubmed"):
        for strategy in ("random", "evolution"):
            nasbook.Search(NasBenchGraph(d), strategy=strategy, budget=30, seed=3, kb=kb,
                           name=f"{strategy}-{d}").run(progress="none")
        kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    return kb


def _winners(kb, budget):
    """{task: the strategies whose search found the best value within its first ``budget`` trials}"""
    trials = kb.trials()
    won = {}
    for task, rows in trials[trials["search"].str.startswith(("random-", "evolution-"))].groupby("task"):
        best = {s: g.sort_values("number")["value"].to_numpy()[:budget].max() for s, g in rows.groupby("strategy")}
        won[task] = [k for k, v in best.items() if v == max(best.values())]
    return won


def test_a_portfolio_with_a_kb_gets_its_prior_from_the_tasks_each_strategy_won(kb):
    search = nasbook.Search(NasBenchGraph("photo"), strategy=Portfolio(["random", "evolution", "bo"]), budget=20,
                            seed=0, kb=kb, name="pf-photo")
    prior = search.strategy.prior
    assert prior is not None and set(prior) <= {"random", "evolution"}  # bo never ran: no wins
    won = _winners(kb, 20)
    near = kb.similar_tasks(NasBenchGraph("photo"), k=3)
    weight = {t: max(0.05, 1 - d) for t, d in zip(near["task"], near["distance"])}
    expected = {}
    for task, winners in won.items():
        for w in winners:
            expected[w] = expected.get(w, 0.0) + weight[task] / len(winners)
    assert prior == pytest.approx(expected)
    assert len(set(weight.values())) > 1  # the weights are the tasks' similarities, not a plain count
    assert "(from kb)" in repr(search.strategy) and "(from kb)" not in repr(Portfolio(prior={"bo": 1.0}, strategies=["bo"]))
    search.run(progress="none")
    assert len(search.trials) == 20


def test_an_explicit_prior_is_kept_and_no_kb_means_no_prior(kb):
    mine = nasbook.Search(NasBenchGraph("photo"), strategy=Portfolio(["random", "bo"], prior={"bo": 2.0}), budget=3,
                          seed=0, kb=kb, name="pf-mine")
    assert mine.strategy.prior == {"bo": 2.0} and mine.strategy.prior_from_ is None
    plain = nasbook.Search(NasBenchGraph("photo"), strategy=Portfolio(), budget=3, seed=0, storage=":memory:")
    assert plain.strategy.prior is None and "(from kb)" not in repr(plain.strategy)


def test_arms_no_past_search_used_leave_the_prior_unset(kb):
    search = nasbook.Search(NasBenchGraph("photo"), strategy=Portfolio(["local", "bo"]), budget=3, seed=0, kb=kb,
                            name="pf-none")
    assert search.strategy.prior is None


def test_a_resumed_portfolio_still_says_its_prior_came_from_the_kb(kb, tmp_path):
    search = nasbook.Search(NasBenchGraph("photo"), strategy=Portfolio(["random", "evolution"]), budget=4, seed=0,
                            kb=kb, storage=tmp_path / "pf.db", name="pf-resume")
    search.run(progress="none")
    again = nasbook.load_search("pf-resume", tmp_path / "pf.db", task=NasBenchGraph("photo"), budget=6)
    assert again.strategy.prior == search.strategy.prior and again.strategy.prior_from_ == "kb"
    assert "(from kb)" in repr(again.strategy)
    again.run(progress="none")
    assert len(again.trials) == 6
