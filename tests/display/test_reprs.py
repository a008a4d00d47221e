"""Search / Trial / Architecture / SearchSpace reprs: escaping, fallback, sections, caps, no I/O."""

import re
import sys
from html import unescape

import numpy as np
import pytest
from display_helpers import XSS, check_safe_html, extract_svgs, html_section_titles, text_section_titles

import nasbook
from nasbook import display
from nasbook._options import set_options
from nasbook.search import SearchState, Trial, TrialState
from nasbook.space import Architecture, CellSpace, ChainSpace, GraphSpace

SPACES = {
    "graph": lambda: GraphSpace(),
    "cell4": lambda: CellSpace(),
    "cell6": lambda: CellSpace(n_nodes=6),
    "chain-cnn": lambda: ChainSpace(kind="cnn"),
    "chain-mlp": lambda: ChainSpace(kind="mlp"),
}


def _bundle(obj):
    bundle = display.repr_mimebundle(obj)
    assert set(bundle) == {"text/plain", "text/html"}
    return bundle["text/plain"], bundle["text/html"]


def _check_common(text, html):
    check_safe_html(html)
    fallback = re.search(r'<pre class="nb-fallback">(.*?)</pre>', html, flags=re.S)
    assert fallback is not None, "the plain-text fallback is missing"
    assert unescape(fallback.group(1)) == text
    assert '<div class="nb-wrap" hidden' in html
    assert html.startswith("<style>") and ".nb-fallback" in html
    titles = html_section_titles(html)
    assert titles, "no sections"
    assert titles == text_section_titles(text), "text and HTML list different sections"
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate element ids"
    assert all(f'for="{i}"' in html for i in ids if i.startswith("nb-") and not i.startswith("nb-arrow"))


# -- Search ---------------------------------------------------------------------------------------
def test_finished_search(nbg_search):
    text, html = _bundle(nbg_search)
    _check_common(text, html)
    assert html_section_titles(html) == ["Overview", "Best trial", "Trials"]
    assert 'class="nb-badge nb-state-done">done</span>' in html
    best = nbg_search.best
    assert best.arch.id in html and best.arch.id in text
    assert f"{best.value:.6g}" in text
    assert "30 of 30 trials" in text and "30 of 30 trials" in html
    assert nbg_search.storage.label in text
    assert "seed" in text and "RegularizedEvolution" in html
    assert "test_accuracy" in html and "test_accuracy" in text  # held-out attrs of the best trial
    svgs = extract_svgs(html)
    assert len(svgs) == 1  # the best trial's drawing
    for op in best.arch["ops"]:
        assert op in svgs[0]
    # default cap: 20 of 30 rows, head and tail
    assert "… 10 more trials" in text and "… 10 more trials" in html


def test_search_with_failures(toy_failed_search):
    text, html = _bundle(toy_failed_search)
    _check_common(text, html)
    failed = [t for t in toy_failed_search.trials if t.state is TrialState.FAILED]
    assert failed
    assert "nb-state-failed" in html
    for t in failed:
        assert "toy failure" in t.reason
        assert t.reason in text
    n_complete = sum(t.state is TrialState.COMPLETE for t in toy_failed_search.trials)
    assert f"{n_complete} complete, {len(failed)} failed" in text


def test_markup_in_names_reasons_and_attrs_is_escaped(evil_search):
    text, html = _bundle(evil_search)
    _check_common(text, html)
    assert XSS in text  # plain text keeps the string as it is
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>2</b>" not in html
    for trial in evil_search.trials:
        t_text, t_html = _bundle(trial)
        _check_common(t_text, t_html)
        assert XSS not in t_html and "<script>" not in t_html
        if trial.reason:
            assert "Failure" in html_section_titles(t_html)
            assert trial.reason in t_text
            assert 'class="nb-note nb-note-error"' in t_html
    best_text, best_html = _bundle(evil_search.best)
    assert "&lt;script&gt;key&lt;/script&gt;" in best_html  # attr names are user strings too


def test_markup_in_an_architecture_is_escaped():
    arch = Architecture("chain-evil", XSS, {"layers": [[XSS, 64], ["relu", '"><svg onload=alert(1)>']]})
    # no space in memory has this id: the spec is shown as text, escaped
    text, html = _bundle(arch)
    _check_common(text, html)
    assert extract_svgs(html) == []
    assert XSS in text and XSS not in html and "onload=alert(1)>" not in html.replace("&gt;", "")
    # drawn by a built-in space's hook: the labels in the SVG are escaped too
    space = ChainSpace(kind="mlp")
    text, html = display.architecture_text(arch, space), display.architecture_html(arch, space)
    _check_common(text, html)
    assert XSS not in html and "onload=alert(1)>" not in html.replace("&gt;", "")
    svg = extract_svgs(html)[0]
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)  # still well-formed
    assert XSS in "".join(ET.fromstring(svg).itertext())
    assert f"input -> {XSS}/64 -> relu/" in text


def test_row_cap(nbg_search):
    with set_options(display_max_rows=5):
        text, html = _bundle(nbg_search)
    assert "… 25 more trials" in text and "… 25 more trials" in html
    table = re.search(r'<table class="nb-table">.*?</table>', html, flags=re.S).group(0)
    rows = re.findall(r"<tr>", table.split("<tbody>")[1])
    assert len(rows) == 5
    # head and tail: the first and the last trial are both listed
    numbers = [int(n) for n in re.findall(r"<tr><td class=\"nb-num\">(\d+)</td>", table)]
    assert numbers == [0, 1, 2, 28, 29]
    with set_options(display_max_rows=1):
        text, _ = _bundle(nbg_search)
    assert "… 29 more trials" in text
    with set_options(display_max_rows=100):
        text, html = _bundle(nbg_search)
    assert "more trials" not in text and "more trials" not in html


def test_search_before_run_and_the_state_badge():
    from nasbook.tasks import NasBenchGraph

    search = nasbook.Search(NasBenchGraph("cora"), budget=3, seed=0, storage=":memory:", name="fresh")
    assert search.state is SearchState.CREATED
    text, html = _bundle(search)
    _check_common(text, html)
    assert "No complete trial yet." in text and "No trials yet." in html
    assert "nb-state-created" in html
    assert "0 of 3 trials" in text
    # before run() the strategy reads seed=None: the view says which seed it will get
    assert "RandomSearch(seed=None" in text and "run() seeds it with the search's seed 0" in text
    search.run(progress="none")
    text, _ = _bundle(search)
    assert "RandomSearch(seed=0" in text and "run() seeds it" not in text


def test_repr_never_touches_storage_or_dask(toy_failed_search, monkeypatch):
    class Untouchable:
        label = "guarded.db"

        def __getattr__(self, name):
            raise AssertionError(f"the repr used storage.{name}")

    monkeypatch.setattr(toy_failed_search, "_storage", Untouchable())
    before = set(sys.modules)
    text, html = _bundle(toy_failed_search)
    for trial in toy_failed_search.trials:
        _bundle(trial)
    new = {m.split(".")[0] for m in set(sys.modules) - before}
    assert not new & {"dask", "distributed", "torch", "pandas", "xarray", "sqlalchemy", "lightning"}
    assert "guarded.db" in text


# -- Trial ----------------------------------------------------------------------------------------
def test_trial_repr(nbg_search):
    trial = nbg_search.best
    text, html = _bundle(trial)
    _check_common(text, html)
    assert html_section_titles(html) == ["Overview", "Architecture", "Held-out attrs"]
    assert "nb-state-complete" in html
    for op in trial.arch["ops"]:
        assert op in extract_svgs(html)[0]


@pytest.mark.parametrize("state", list(TrialState))
def test_every_trial_state_has_a_badge_colour(state):
    arch = ChainSpace(kind="mlp").make(layers=[["relu", 32]])
    trial = Trial(0, arch, state, None, reason="stopped" if state is not TrialState.COMPLETE else None,
                  curves={"val_loss": [1.0, 0.5, float("nan")]})
    text, html = _bundle(trial)
    _check_common(text, html)
    assert f"nb-state-{state.value}" in html
    assert f".nb-state-{state.value}" in display.css()
    assert "Curves" in html_section_titles(html)


@pytest.mark.parametrize("state", list(SearchState))
def test_every_search_state_has_a_badge_colour(state):
    assert f".nb-state-{state.value}" in display.css()


# -- Architecture and SearchSpace ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SPACES))
def test_every_space_and_its_architectures(name):
    space = SPACES[name]()
    text, html = _bundle(space)
    _check_common(text, html)
    assert html_section_titles(html) == ["Overview", "Parameters", "Choices", "Example architecture"]
    assert f"{space.cardinality:,}" in text
    assert type(space).__name__ in html
    assert len(extract_svgs(html)) == 1
    # through the methods on the classes themselves
    own = space._repr_mimebundle_()
    assert set(own) == {"text/plain", "text/html"} and own["text/plain"] == text
    rng = np.random.default_rng(0)
    for _ in range(5):
        arch = space.sample(rng)
        bundle = arch._repr_mimebundle_()
        a_text, a_html = bundle["text/plain"], bundle["text/html"]
        _check_common(a_text, a_html)
        assert html_section_titles(a_html) == ["Overview", "Drawing", "Spec"]
        assert arch.id in a_text and arch.id in a_html


def test_architecture_html_with_its_space():
    space = ChainSpace(kind="cnn")
    arch = space.make(layers=[["conv3x3", 16], ["maxpool_conv3x3", 64]])
    html = display.architecture_html(arch, space)
    check_safe_html(html)
    assert "ChainSpace(kind=&#x27;cnn&#x27;" in html
    assert "input -&gt; conv3x3/16 -&gt; maxpool_conv3x3/64 -&gt; output" in html  # the fallback


def test_an_unknown_spec_shows_as_text():
    arch = Architecture("custom-1", "abc", {"genes": [1, 2, 3]})
    text, html = _bundle(arch)
    _check_common(text, html)
    assert extract_svgs(html) == []
    assert "genes" in text and "[1, 2, 3]" in html


def test_a_space_whose_cardinality_raises_still_shows():
    class Broken(ChainSpace):
        @property
        def cardinality(self):
            raise RuntimeError("too big to count")

    text, html = _bundle(Broken(kind="mlp"))
    _check_common(text, html)
    assert "unavailable (RuntimeError: too big to count)" in text


def test_a_large_subset_space_shows_a_count_not_every_member():
    from nasbook.space import SubsetSpace

    parent = CellSpace()
    rng = np.random.default_rng(0)
    archs = list({a.id: a for a in (parent.sample(rng) for _ in range(400))}.values())
    text, html = _bundle(SubsetSpace(parent, archs))
    _check_common(text, html)
    assert f"{len(archs):,} items: [{{'edges':" in text
    assert len(text) < 2000 and len(html) < 20_000  # 400 specs would be ~50 kB


# -- generic builders -------------------------------------------------------------------------------
def test_object_html_for_later_objects():
    html = display.object_html(
        "Predictor",
        [("Parameters", display.fields_html({"model": XSS, "n_members": 5})),
         ("Scores", display.table_html(["arch", "score"], [(f"a{i}", i / 3) for i in range(50)], max_rows=4))],
        badge="fitted",
        name=XSS,
    )
    check_safe_html(html)
    assert html_section_titles(html) == ["Parameters", "Scores"]
    assert "nb-state-fitted" in html and "… 46 more rows" in html
    assert XSS not in html


def test_unknown_objects_fall_back_to_get_params():
    class Thing:
        def get_params(self):
            return {"alpha": XSS}

    text, html = _bundle(Thing())
    _check_common(text, html)
    assert XSS in text and XSS not in html


def test_mimebundle_respects_include_and_exclude():
    calls = []

    def build():
        calls.append(1)
        return "<b>x</b>"

    assert display.mimebundle("t", build, exclude={"text/html"}) == {"text/plain": "t"}
    assert display.mimebundle("t", build, include={"text/plain"}) == {"text/plain": "t"}
    assert calls == []  # HTML is not even built when not wanted
    assert display.mimebundle("t", build) == {"text/plain": "t", "text/html": "<b>x</b>"}
    arch = ChainSpace(kind="mlp").make(layers=[["relu", 32]])
    assert set(arch._repr_mimebundle_(include={"text/html"})) == {"text/html"}


# -- wiring ---------------------------------------------------------------------------------------------
def test_ipython_uses_the_bundles():
    formatters = pytest.importorskip("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    arch = ChainSpace(kind="mlp").make(layers=[["relu", 32]])
    data, _ = fmt.format(arch)
    assert data["text/plain"] == display.architecture_text(arch)
    assert 'class="nb-fallback"' in data["text/html"]
    with set_options(display_style="text"):
        data, _ = fmt.format(ChainSpace())
    assert "text/html" not in data and data["text/plain"].startswith("ChainSpace chain-")


@pytest.mark.parametrize("which", ["search", "trial"])
def test_search_and_trial_delegate_to_display(which, nbg_search):
    obj = nbg_search if which == "search" else nbg_search.best
    if "_repr_mimebundle_" not in vars(type(obj)):
        pytest.skip(f"{type(obj).__name__}._repr_mimebundle_ is not wired to nasbook.display yet")
    bundle = obj._repr_mimebundle_()
    assert bundle["text/plain"] == display.repr_mimebundle(obj)["text/plain"]
    assert html_section_titles(bundle["text/html"]) == html_section_titles(display.repr_mimebundle(obj)["text/html"])
