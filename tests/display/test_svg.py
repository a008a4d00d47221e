"""Architecture drawings: each space's ``draw`` hook, laid out by ``nasbook.display``: well-formed XML,
every op label, no overlapping labels, every space."""

import re
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest
from display_helpers import extract_svgs

from nasbook import display
from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.display import Diagram, DiagramEdge, DiagramNode, diagram_svg, diagram_text
from nasbook.space import CellSpace, ChainSpace, GraphSpace

NS = "{http://www.w3.org/2000/svg}"

SPACES = {
    "graph": lambda: GraphSpace(),
    "graph-proteins": lambda: GraphSpace(ops=("gcn", "sage", "arma", "fc", "skip")),
    "cell3": lambda: CellSpace(n_nodes=3),
    "cell4": lambda: CellSpace(),
    "cell5": lambda: CellSpace(n_nodes=5, ops=("none", "skip_connect", "sep_conv_3x3", "dil_conv_3x3")),
    "cell6": lambda: CellSpace(n_nodes=6),
    "chain-cnn": lambda: ChainSpace(kind="cnn", max_depth=6),
    "chain-mlp": lambda: ChainSpace(kind="mlp"),
}


def expected_ops(arch):
    spec = arch.spec
    if "ops" in spec:
        return list(spec["ops"])
    if "edges" in spec:
        return [op for op in spec["edges"] if op != "none"]
    return [op for op, _ in spec["layers"]]


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def boxes(root):
    """(x0, y0, x1, y1, kind) of every node shape and every edge-label background."""
    out = []
    for el in root.iter():
        cls = el.get("class", "")
        if el.tag == f"{NS}rect" and ("nb-node" in cls or "nb-label-bg" in cls):
            x, y, w, h = (float(el.get(a)) for a in ("x", "y", "width", "height"))
            out.append((x, y, x + w, y + h, "label" if "nb-label-bg" in cls else "node"))
        elif el.tag == f"{NS}circle":
            cx, cy, r = (float(el.get(a)) for a in ("cx", "cy", "r"))
            out.append((cx - r, cy - r, cx + r, cy + r, "node"))
    return out


def overlap(a, b):
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.mark.parametrize("name", sorted(SPACES))
def test_drawings_are_well_formed_labelled_and_uncluttered(name):
    space = SPACES[name]()
    rng = np.random.default_rng(7)
    for _ in range(60 if name.startswith("cell") else 15):
        arch = space.sample(rng)
        svg = diagram_svg(space.draw(arch))
        root = ET.fromstring(svg)
        assert root.tag == f"{NS}svg"
        shown = texts(root)
        ops = expected_ops(arch)
        # every op once per occurrence: node ops (graph), non-'none' edges (cell), layers (chain)
        op_texts = [t.split(" / ")[0] for t in shown if t not in {"input", "output", "in", "out"} and not t.isdigit()]
        assert Counter(op_texts) == Counter(ops), (arch, shown)
        if "layers" in arch.spec:
            assert [t for t in shown if " / " in t] == [f"{op} / {w}" for op, w in arch["layers"]]
        # nothing is drawn outside the view box, and no label sits on a node or on another label
        _, _, width, height = (float(v) for v in root.get("viewBox").split())
        found = boxes(root)
        for b in found:
            assert -0.5 <= b[0] and b[2] <= width + 0.5 and -0.5 <= b[1] and b[3] <= height + 0.5, (b, width, height)
        for i, a in enumerate(found):
            for b in found[i + 1 :]:
                assert not overlap(a, b), (arch, a, b)
        # arrows point at nodes that exist
        marker = root.find(f"{NS}defs/{NS}marker").get("id")
        assert all(p.get("marker-end") == f"url(#{marker})" for p in root.iter(f"{NS}path") if "nb-edge" in p.get("class", ""))


def test_graph_edges_follow_link_and_leaves_feed_the_output():
    space = GraphSpace()
    arch = space.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    d = space.draw(arch)
    link = arch["link"]
    edges = {(e.src, e.dst) for e in d.edges}
    assert {(p, i + 1) for i, p in enumerate(link)} <= edges
    leaves = {i for i in range(1, 5) if i not in link}
    assert {(i, 5) for i in leaves} == {e for e in edges if e[1] == 5}
    assert len(edges) == 4 + len(leaves)


def test_cell_edges_are_lexicographic_and_skip_none():
    space = CellSpace(ops=("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"))
    arch = space.make(edges=["nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1"])
    d = space.draw(arch)
    assert space.edges == ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    labelled = {(i, j): op for (i, j), op in zip(space.edges, arch["edges"]) if op != "none"}
    assert [(e.src, e.dst, e.label) for e in d.edges] == [(i, j, op) for (i, j), op in labelled.items()]
    assert [n.label for n in d.nodes] == ["in", "1", "2", "out"]
    assert d.n_ops == len(labelled) and sorted(d.op_labels) == sorted(labelled.values())


def test_texts_of_each_space():
    chain = ChainSpace(kind="mlp")
    assert diagram_text(chain.draw(chain.make(layers=[["relu", 64], ["tanh", 32]]))) == "input -> relu/64 -> tanh/32 -> output"
    graph = GraphSpace()
    arch = graph.make(link=[0, 1, 1, 0], ops=["gcn", "gat", "sage", "fc"])
    assert arch.spec == {"link": [0, 0, 1, 1], "ops": ["gcn", "fc", "gat", "sage"]}  # canonical form
    assert diagram_text(graph.draw(arch)).splitlines() == [
        "node 1 = gcn(input)", "node 2 = fc(input)", "node 3 = gat(node 1)", "node 4 = sage(node 1)",
        "output = node 2 + node 3 + node 4",
    ]  # fmt: skip


def test_a_cell_of_another_size_is_refused_by_draw():
    arch = CellSpace(n_nodes=3).sample(np.random.default_rng(0))
    with pytest.raises(InvalidArchitectureError, match="has 3 edges"):
        CellSpace().draw(arch)


def test_malformed_diagrams_are_refused():
    nodes = (DiagramNode("a", "io"), DiagramNode("b", "io"))
    with pytest.raises(InvalidParameterError, match="earlier node to a later one"):
        Diagram(nodes, (DiagramEdge(1, 0),))
    with pytest.raises(InvalidParameterError, match="earlier node to a later one"):
        Diagram(nodes, (DiagramEdge(0, 2),))
    with pytest.raises(InvalidParameterError, match="at least one DiagramNode"):
        Diagram(())
    with pytest.raises(InvalidParameterError, match="DiagramNode"):
        Diagram(("a",))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'io', 'op', 'point'"):
        DiagramNode("x", "box")  # type: ignore[arg-type]


def test_generic_text_forms():
    nodes = (DiagramNode("a", "io"), DiagramNode("b"), DiagramNode("c", "io"))
    assert diagram_text(Diagram(nodes, (DiagramEdge(0, 1), DiagramEdge(1, 2)))) == "a -> b -> c"
    assert diagram_text(Diagram(nodes, (DiagramEdge(0, 2, "op"), DiagramEdge(0, 1)))) == "a -> c  op\na -> b"
    assert diagram_text(Diagram(nodes)) == "(no edges)"
    assert diagram_text(Diagram(nodes, text="mine")) == "mine"


def test_ids_are_unique_per_drawing():
    space = ChainSpace(kind="mlp")
    d = space.draw(space.make(layers=[["relu", 32]]))
    a, b = diagram_svg(d), diagram_svg(d)
    ida = re.search(r'<marker id="([^"]+)"', a).group(1)
    idb = re.search(r'<marker id="([^"]+)"', b).group(1)
    assert ida != idb and f"url(#{ida})" in a


def test_scale_changes_the_size_not_the_view_box():
    space = ChainSpace(kind="mlp")
    d = space.draw(space.make(layers=[["relu", 32]]))
    big, small = ET.fromstring(diagram_svg(d)), ET.fromstring(diagram_svg(d, scale=0.5))
    assert big.get("viewBox") == small.get("viewBox")
    assert float(small.get("width")) == pytest.approx(float(big.get("width")) / 2, abs=0.1)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_the_html_reprs_embed_parseable_svg(name):
    space = SPACES[name]()
    for html in (display.space_html(space), display.architecture_html(space.sample(np.random.default_rng(1)))):
        (svg,) = extract_svgs(html)
        ET.fromstring(svg)


def test_scatter_svg_writes_each_axis_ends_and_draws_the_diagonal_only_when_asked():
    from nasbook.display import scatter_svg

    plain = scatter_svg([0.5, 0.25, 1.0], [10.0, 30.0, 20.0], x_label="p", y_label="t")
    assert "nb-diagonal" not in plain
    assert re.findall(r'class="nb-tick"[^>]*>([^<]*)<', plain) == ["0.25", "1", "10", "30"]  # own ranges
    both = scatter_svg([0.5, 0.25, 1.0], [0.0, 3.0, 2.0], diagonal=True)
    assert both.count('class="nb-diagonal"') == 1 and "<title>y = x</title>" in both
    assert re.findall(r'class="nb-tick"[^>]*>([^<]*)<', both) == ["0", "3", "0", "3"]  # one shared range
