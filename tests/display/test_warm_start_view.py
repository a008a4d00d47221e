"""A warm-started Search's notebook view says where its first architectures came from: how many, from
which past tasks and searches (overview), each one's origin and the trial that ran it (a Warm start
section), and per trial in the trials table; the HTML and the plain text say the same. A search
without warm start shows nothing of it."""

import numpy as np
import pytest
from display_helpers import check_safe_html, html_section_titles, text_section_titles

import nasbook
from nasbook import display
from nasbook.tasks import NasBenchGraph


def _html_text(html: str) -> str:
    """The text of the HTML view itself (not its plain-text fallback), tags stripped."""
    body = html[html.index('<div class="nb-wrap"'):]
    return " ".join(check_safe_html(body).data)


@pytest.fixture(scope="module")
def kb():
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=12, seed=100, kb=kb, name=f"past-{d}").run(progress="none")
    return kb


def test_a_search_warm_started_from_a_knowledge_base_says_where_each_architecture_came_from(kb):
    s = nasbook.Search(NasBenchGraph("photo"), strategy="evolution", budget=5, seed=100, kb=kb, warm_start=3,
                       name="warm-photo")
    seeds = [(arch, prov) for arch, prov in s._warm]
    before = display.repr_mimebundle(s)  # created: the architectures are known, no trial ran them yet
    assert "Warm start" in html_section_titles(before["text/html"])
    s.run(progress="none")
    bundle = display.repr_mimebundle(s)
    html, text = bundle["text/html"], bundle["text/plain"]
    shown = _html_text(html)
    summary = "3 architectures from 2 past tasks (nbg-citeseer, nbg-cora), searches past-citeseer, past-cora"
    assert summary in shown and summary in text  # the overview: how many, from which tasks and searches
    assert html_section_titles(html) == ["Overview", "Best trial", "Warm start", "Trials"]
    assert text_section_titles(text) == ["Overview", "Best trial", "Warm start", "Trials"]
    warm_html = html[html.index('<div class="nb-wrap"'):].split(">Warm start")[1].split(">Trials")[0]
    warm_text = text.split("\nWarm start (3)\n")[1].split("\nTrials (")[0]
    trials = {t.arch.id: t for t in s.trials}
    for arch, prov in seeds:  # each seed's id, origin and the trial that ran it, in both renderings
        origin = trials[arch.id].attrs["warm_start_from"]
        assert "nbg-cora q=" in origin and "nbg-citeseer q=" in origin
        for rendered in (warm_html, warm_text):
            assert arch.id in rendered and origin in rendered
        assert any(line.split()[:2] == [str(prov["rank"]), arch.id] and line.split()[-1] == str(trials[arch.id].number)
                   for line in warm_text.splitlines())
    trials_html = html[html.index('<div class="nb-wrap"'):].split(">Trials")[1]
    trials_text = text.split("\nTrials (")[1]
    assert "warm start from" in trials_html and "warm start from" in trials_text
    for t in s.trials:  # the trials table: the seeds say where they came from, the strategy's own proposals nothing
        line = next(line for line in trials_text.splitlines()[2:] if line.split()[:1] == [str(t.number)])
        if "warm_start_from" in t.attrs:
            assert line.endswith(t.attrs["warm_start_from"]) and t.attrs["warm_start_from"] in trials_html
        else:
            assert "q=" not in line


def test_a_warm_start_given_as_a_list_says_given_and_shows_unrun_seeds_as_missing():
    task = NasBenchGraph("cora")
    rng = np.random.default_rng(100)
    archs = [task.space.sample(rng) for _ in range(2)]
    s = nasbook.Search(task, strategy="random", budget=4, seed=100, storage=":memory:", warm_start=archs)
    bundle = display.repr_mimebundle(s)
    assert "2 architectures given" in _html_text(bundle["text/html"]) and "2 architectures given" in bundle["text/plain"]
    warm_text = bundle["text/plain"].split("\nWarm start (2)\n")[1].split("\nTrials (")[0]
    rows = [line.split() for line in warm_text.splitlines()[1:]]
    assert [r[:3] for r in rows] == [["0", archs[0].id, "given"], ["1", archs[1].id, "given"]]
    assert all(r[-1] == display.MISSING for r in rows)  # no trial ran them yet


def test_a_search_without_warm_start_shows_nothing_of_it():
    s = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=100, storage=":memory:").run(progress="none")
    bundle = display.repr_mimebundle(s)
    assert "warm" not in bundle["text/html"].lower() and "warm" not in bundle["text/plain"].lower()
    assert html_section_titles(bundle["text/html"]) == ["Overview", "Best trial", "Trials"]
