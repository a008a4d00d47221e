"""Outside probe 14 (benchmarks/outside_probe14.py): a search whose budget is smaller than its warm start ran only
the first warm-start architectures; its reprs said "warm-started with 10" of a 3-trial search, as though all ten
had been tried. They now say how many of them ran."""

import nasbook
from nasbook.tasks import NasBenchGraph


def _kb():
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=15, seed=1, kb=kb, name=f"r-{d}").run(progress="none")
    return kb


def test_repr_says_how_many_warm_starts_ran_when_the_budget_cut_them_short():
    kb = _kb()
    s = nasbook.Search(NasBenchGraph("pubmed"), strategy="evolution", budget=3, seed=0, kb=kb, warm_start=10, name="w")
    s.run(progress="none")
    assert [t.attrs.get("warm_start_rank") for t in s.trials] == [0, 1, 2]
    assert "warm-started with 10 (3 tried)" in repr(s)
    text = s._repr_mimebundle_()["text/plain"]
    assert "10 architectures from 2 past tasks" in text and "3 of them tried" in text
    back = nasbook.load_search("w", storage=kb.storage)
    assert "warm-started with 10 (3 tried)" in repr(back)


def test_repr_unchanged_when_every_warm_start_ran():
    kb = _kb()
    s = nasbook.Search(NasBenchGraph("pubmed"), strategy="evolution", budget=6, seed=0, kb=kb, warm_start=4, name="w")
    s.run(progress="none")
    assert "warm-started with 4," in repr(s) and "tried" not in repr(s)
    assert "of them tried" not in s._repr_mimebundle_()["text/plain"]


def test_search_warm_start_without_past_trials_of_its_space_names_the_search_parameter():
    """It named ``KnowledgeBase.warm_start(space=...)``, a method the user had not called, and said nothing of what to
    do; it names ``Search(kb=..., warm_start=...)`` now, says how to start cold, and stores nothing."""
    import pytest

    from nasbook import InvalidParameterError
    from nasbook.tasks import DigitsTable

    for kb in (nasbook.KnowledgeBase(":memory:"), _kb()):  # empty, and only trials of another space
        n = len(kb.searches)
        with pytest.raises(InvalidParameterError) as info:
            nasbook.Search(DigitsTable(), strategy="random", budget=3, seed=0, kb=kb, warm_start=True, name="cold")
        text = str(info.value)
        assert text.startswith("Search(kb=..., warm_start=...)") and "KnowledgeBase.warm_start" not in text
        assert "Leave warm_start out for a cold start" in text and "subset-" in text and "\n" not in text
        assert len(kb.searches) == n
        s = nasbook.Search(DigitsTable(), strategy="random", budget=2, seed=0, kb=kb, name="cold").run(progress="none")
        assert s.n_trials == 2
