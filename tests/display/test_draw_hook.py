"""A third-party space draws its architectures through ``SearchSpace.draw``; nasbook.display renders it."""

import gc
import pickle
import re
import xml.etree.ElementTree as ET
from html import unescape

import numpy as np
from display_helpers import XSS, check_safe_html, extract_svgs, html_section_titles

import nasbook
from nasbook import display
from nasbook.display import Diagram, DiagramEdge, DiagramNode
from nasbook.space import Architecture, SearchSpace, stable_hash

NS = "{http://www.w3.org/2000/svg}"


class PipelineSpace(SearchSpace):
    """A space of its own: a pipeline of named steps, drawn as a chain of boxes with a skip arc."""

    name = "pipeline"

    def __init__(self, steps=("scale", "pca", XSS)):
        self.steps = tuple(steps)
        self.drawn = 0

    def make(self, **spec):
        order = [str(s) for s in spec["order"]]
        return Architecture(self.space_id, stable_hash(order), {"order": order})

    @property
    def cardinality(self):
        return 6

    def sample(self, rng):
        return self.make(order=list(rng.permutation(list(self.steps))))

    def neighbours(self, arch):
        return []

    def _encode(self, arch, kind):
        return np.zeros(1, dtype=np.float32)

    def _encoding_size(self, kind):
        return 1

    def draw(self, arch):
        self.drawn += 1
        order = arch["order"]
        nodes = (DiagramNode("data", "io"), *(DiagramNode(s, "op", f" #{i}") for i, s in enumerate(order)), DiagramNode("model", "io"))
        edges = [DiagramEdge(i, i + 1) for i in range(len(nodes) - 1)] + [DiagramEdge(0, len(nodes) - 1, "skip <b>")]
        return Diagram(tuple(nodes), tuple(edges), kind="pipeline <x>")


def _bundle(obj):
    bundle = obj._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    return bundle["text/plain"], bundle["text/html"]


def test_a_third_party_space_draws_its_architectures_in_text_and_html():
    space = PipelineSpace()
    arch = space.make(order=["pca", XSS, "scale"])
    text, html = _bundle(arch)
    check_safe_html(html)
    assert space.drawn >= 1
    # text: the generic form of the diagram (one line per edge, since it is not a plain chain)
    drawing = text.split("\nDrawing\n")[1].split("\nSpec\n")[0]
    assert drawing.splitlines() == [
        "  data -> pca #0", f"  pca #0 -> {XSS} #1", f"  {XSS} #1 -> scale #2", "  scale #2 -> model", "  data -> model  skip <b>",
    ]  # fmt: skip
    assert "ops    4" in text  # three op boxes and the labelled edge
    # HTML: one well-formed SVG with every label, all escaped
    (svg,) = extract_svgs(html)
    root = ET.fromstring(svg)
    shown = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert shown == ["skip <b>", "data", "pca #0", f"{XSS} #1", "scale #2", "model"]
    assert XSS not in html and "skip <b>" not in html and "&lt;b&gt;" in svg
    assert 'class="nb-svg nb-svg-pipelinex"' in svg  # the css modifier keeps only safe characters
    # the plain-text fallback inside the HTML is the text repr
    fallback = re.search(r'<pre class="nb-fallback">(.*?)</pre>', html, flags=re.S).group(1)
    assert unescape(fallback) == text


def test_the_space_repr_draws_its_example_with_the_hook():
    space = PipelineSpace()
    text, html = _bundle(space)
    check_safe_html(html)
    assert html_section_titles(html)[-1] == "Example architecture"
    assert len(extract_svgs(html)) == 1 and "skip &lt;b&gt;" in html
    assert "data -> model  skip <b>" in text


def test_a_search_and_its_trials_draw_with_the_hook():
    class PipelineTask(nasbook.tasks.Task):
        metric, mode = "score", "max"

        def evaluate(self, arch, *, fidelity=None, report=None, **kwargs):
            return nasbook.tasks.Result(float(arch["order"].index("pca")))

    space = PipelineSpace()
    search = nasbook.Search(space, PipelineTask(), strategy="random", budget=3, seed=0, storage=":memory:").run()
    for obj in (search, search.best):
        text, html = _bundle(obj)
        check_safe_html(html)
        (svg,) = extract_svgs(html)
        assert "skip &lt;b&gt;" in svg and "data -> model  skip <b>" in text


def test_without_the_hook_the_spec_shows_as_text():
    class Plain(PipelineSpace):
        draw = SearchSpace.draw  # the default: nothing to draw

    space = Plain()
    text, html = _bundle(space.make(order=["pca"]))
    check_safe_html(html)
    assert extract_svgs(html) == []
    assert "order: ['pca']" in text


def test_a_failing_or_wrong_hook_is_reported_not_raised():
    class Broken(PipelineSpace):
        def draw(self, arch):
            raise RuntimeError(f"cannot draw {XSS}")

    class Wrong(PipelineSpace):
        def draw(self, arch):
            return "<svg onload=alert(1)>"

    for cls, why in ((Broken, f"drawing unavailable (RuntimeError: cannot draw {XSS})"), (Wrong, "returned str, not a")):
        space = cls()
        text, html = _bundle(space.make(order=["pca"]))
        check_safe_html(html)
        assert why in text and extract_svgs(html) == []
        assert 'class="nb-note nb-note-error"' in html
        assert "order: ['pca']" in text  # the spec instead


def test_an_architecture_is_drawn_by_the_space_it_keeps_and_a_rebuilt_one_by_a_space_in_memory():
    space = PipelineSpace()
    arch = space.make(order=["pca"])
    assert "data -> pca #0" in display.architecture_text(arch)
    blob = pickle.dumps(arch)  # a pickle carries the spec, not the space
    del space
    gc.collect()
    assert "data -> pca #0" in display.architecture_text(arch)  # the space that made it lives on with it
    del arch
    gc.collect()
    rebuilt = pickle.loads(blob)
    assert "data -> pca #0" not in display.architecture_text(rebuilt)  # no space in memory: the spec as text
    assert "order: ['pca']" in display.architecture_text(rebuilt)
    other = PipelineSpace()  # an equal space (same space_id) draws it again
    assert "data -> pca #0" in display.architecture_text(rebuilt)
    assert other.drawn == 1
