"""benchmarks/outside_probe8.py's ``bad`` part: the spaces given wrong types, unknown ops, wrong lengths, another
space's architectures and bad constructor arguments (each should be a one-line NasbookError naming the parameter)."""

from __future__ import annotations

from typing import Any

import numpy as np
from _common import Wrong


def part_bad(check: Any, spaces: Any) -> None:
    from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace, GraphSpace, SearchSpace, SubsetSpace

    Q = "bad"
    sp = spaces()
    names = list(sp)
    for i, (name, space) in enumerate(sp.items()):
        other = sp[names[(i + 3) % len(names)]]
        oa = other.sample(np.random.default_rng(0))
        a = space.sample(np.random.default_rng(0))
        for what, rng in (("an int seed", 0), ("None", None), ("np.random.RandomState(0)", np.random.RandomState(0)),
                          ("random.Random(0)", __import__("random").Random(0))):
            check(Q, f"{name}: sample(rng={what})", lambda s=space, r=rng: s.sample(r), "refused", ("rng", "Generator"))
        check(Q, f"{name}: mutate(a, rng=0)", lambda s=space, a=a: s.mutate(a, 0), "refused", ("rng",))
        check(Q, f"{name}: mutate(arch of another space)", lambda s=space, o=oa: s.mutate(o, np.random.default_rng(0)), "refused", ("space",))
        check(Q, f"{name}: neighbours(arch of another space)", lambda s=space, o=oa: s.neighbours(o), "refused", ("space",))
        check(Q, f"{name}: encode(arch of another space)", lambda s=space, o=oa: s.encode(o), "refused", ("space",))
        check(Q, f"{name}: encode_many([member, other space's arch])", lambda s=space, a=a, o=oa: s.encode_many([a, o]), "refused", ("space",))
        check(Q, f"{name}: encode(a string)", lambda s=space: s.encode("abc"), "refused", ("Architecture",))
        check(Q, f"{name}: encode(a.spec)", lambda s=space, a=a: s.encode(a.spec), "refused", ("Architecture",))
        check(Q, f"{name}: encode_many(one Architecture, not a list)", lambda s=space, a=a: s.encode_many(a), "refused", ("archs",))
        check(Q, f"{name}: encode_many(None)", lambda s=space: s.encode_many(None), "refused", ("archs",))
        check(Q, f"{name}: encode(kind='nope')", lambda s=space, a=a: s.encode(a, "nope"), "refused", ("kind", "adjacency"))
        check(Q, f"{name}: encode(kind=None)", lambda s=space, a=a: s.encode(a, None), "refused", ("kind",))
        check(Q, f"{name}: encoding_size('nope')", lambda s=space: s.encoding_size("nope"), "refused", ("kind",))
        check(Q, f"{name}: feature_names('nope')", lambda s=space: s.feature_names("nope"), "refused", ("kind",))
        check(Q, f"{name}: validate(another space's arch)", lambda s=space, o=oa: s.validate(o), "refused", ("space",))
        check(Q, f"{name}: validate(42)", lambda s=space: s.validate(42), "refused", ("Architecture",))
        check(Q, f"{name}: 42 in space is False", lambda s=space: _false(42 in s))
        check(Q, f"{name}: 'x' in space is False", lambda s=space: _false("x" in s))
        check(Q, f"{name}: other space's arch in space is False", lambda s=space, o=oa: _false(o in s))
        check(Q, f"{name}: from_dict('a string')", lambda s=space: s.from_dict("abc"), "refused", ("mapping",))
        check(Q, f"{name}: from_dict({{'nope': 1}})", lambda s=space: s.from_dict({"nope": 1}), "refused", ("nope",))
        check(Q, f"{name}: from_dict(another space's to_dict())", lambda s=space, o=oa: _member_or_refused(s, o), "either", ())
        check(Q, f"{name}: make() without fields", lambda s=space: s.make(), "refused", ())
        check(Q, f"{name}: enumerate(limit=-1)", lambda s=space: s.enumerate(limit=-1), "refused", ("limit",))
        check(Q, f"{name}: enumerate(limit='10')", lambda s=space: s.enumerate(limit="10"), "refused", ("limit",))
        check(Q, f"{name}: enumerate(limit=1)", lambda s=space: s.enumerate(limit=1), "refused", ("limit",))
        check(Q, f"{name}: from_config(None)", lambda s=space: type(s).from_config(None), "refused", ("config",))
        fake = _forged(space, a)
        check(Q, f"{name}: a forged Architecture (right space id, another spec) not a member",
              lambda s=space, f=fake: _false(f in s))
        check(Q, f"{name}: encode(a forged Architecture)", lambda s=space, f=fake: s.encode(f), "refused", ())
    g, c = GraphSpace(), CellSpace()
    ga = g.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    for what, kw, says in (
        ("link of 3", {"link": [0, 0, 1], "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("link[2] = 3 (> 2)", {"link": [0, 0, 3, 2], "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("link as a string", {"link": "0012", "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("link of floats 0.0", {"link": [0.0, 0, 1, 2], "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("link of np.int64", {"link": list(np.array([0, 0, 1, 2])), "ops": ["gcn", "gat", "sage", "fc"]}, ()),
        ("link[0] = True", {"link": [True, 0, 1, 2], "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("link[1] = -1", {"link": [0, -1, 1, 2], "ops": ["gcn", "gat", "sage", "fc"]}, ("link",)),
        ("unknown op 'gcnn'", {"link": [0, 0, 1, 2], "ops": ["gcnn", "gat", "sage", "fc"]}, ("gcnn", "gcn")),
        ("op of another case 'GCN'", {"link": [0, 0, 1, 2], "ops": ["GCN", "gat", "sage", "fc"]}, ("ops",)),
        ("ops as a string", {"link": [0, 0, 1, 2], "ops": "gcn"}, ("ops",)),
        ("ops as ints", {"link": [0, 0, 1, 2], "ops": [1, 2, 3, 4]}, ("ops",)),
        ("all skip", {"link": [0, 0, 1, 2], "ops": ["skip"] * 4}, ("skip",)),
        ("extra field", {"link": [0, 0, 1, 2], "ops": ["gcn", "gat", "sage", "fc"], "extra": 1}, ("extra",)),
        ("ops unhashable [['gcn']]", {"link": [0, 0, 1, 2], "ops": [["gcn"], "gat", "sage", "fc"]}, ("ops",)),
    ):
        check(Q, f"GraphSpace.make({what})", lambda kw=kw: g.make(**kw), "ok" if what == "link of np.int64" else "refused", says)
    check(Q, "GraphSpace(PROTEINS_OPS).make with 'gat' (not a proteins op)",
          lambda: GraphSpace(ops=("gcn", "sage", "arma", "fc", "skip")).make(link=[0, 0, 1, 2], ops=["gat", "gcn", "sage", "fc"]),
          "refused", ("gat",))
    check(Q, "GraphSpace().make(...) arch in GraphSpace(PROTEINS_OPS)", lambda: _false(ga in GraphSpace(ops=("gcn", "sage", "arma", "fc", "skip"))))
    for what, edges, says in (
        ("5 edges", ["nor_conv_3x3"] * 5, ("edges",)),
        ("7 edges", ["nor_conv_3x3"] * 7, ("edges",)),
        ("unknown op 'conv3x3'", ["conv3x3"] + ["none"] * 5, ("conv3x3",)),
        ("an op outside the space's ops 'sep_conv_3x3'", ["sep_conv_3x3"] + ["none"] * 5, ("sep_conv_3x3",)),
        ("all none (no path)", ["none"] * 6, ("path",)),
        ("edges as a string", "nor_conv_3x3", ("edges",)),
        ("edges None", None, ("edges",)),
        ("edges of ints", [1, 2, 3, 4, 5, 6], ("edges",)),
        ("edges as a dict", {"0": "none"}, ("edges",)),
    ):
        check(Q, f"CellSpace.make(edges={what})", lambda e=edges: c.make(edges=e), "refused", says)
    check(Q, "CellSpace.make(edges=..., extra=1)", lambda: c.make(edges=["nor_conv_3x3"] * 6, extra=1), "refused", ("extra",))
    check(Q, "CellSpace.make(edge=...) (misspelt)", lambda: c.make(edge=["nor_conv_3x3"] * 6), "refused", ("edges",))
    check(Q, "CellSpace.make(edges=a tuple)", lambda: c.make(edges=tuple(["nor_conv_3x3"] * 6)))
    check(Q, "CellSpace.make(edges=a numpy array of str)", lambda: c.make(edges=np.array(["nor_conv_3x3"] * 6)), "either", ("edges",))
    for what, text, says in (
        ("empty", "", ("string",)),
        ("garbage", "hello", ()),
        ("5-node string", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|none~1|none~2|none~3|", ("node",)),
        ("unknown op", "|conv~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|", ("conv",)),
        ("no path", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", ("path",)),
        ("None", None, ("text",)),
        ("bytes", b"|none~0|", ("text",)),
    ):
        check(Q, f"CellSpace.from_string({what})", lambda t=text: c.from_string(t), "refused", says)
    check(Q, "CellSpace.to_string(a GraphSpace arch)", lambda: c.to_string(ga), "refused", ("space",))
    for what, make, says in (
        ("CellSpace(n_nodes=1)", lambda: CellSpace(n_nodes=1), ("n_nodes",)),
        ("CellSpace(n_nodes=7)", lambda: CellSpace(n_nodes=7), ("n_nodes",)),
        ("CellSpace(n_nodes='4')", lambda: CellSpace(n_nodes="4"), ("n_nodes",)),
        ("CellSpace(n_nodes=4.0)", lambda: CellSpace(n_nodes=4.0), ("n_nodes",)),
        ("CellSpace(n_nodes=True)", lambda: CellSpace(n_nodes=True), ("n_nodes",)),
        ("CellSpace(ops='nor_conv_3x3')", lambda: CellSpace(ops="nor_conv_3x3"), ("ops",)),
        ("CellSpace(ops=[])", lambda: CellSpace(ops=[]), ("ops",)),
        ("CellSpace(ops=['none'])", lambda: CellSpace(ops=["none"]), ("ops",)),
        ("CellSpace(ops=['nor_conv_3x3', 'nor_conv_3x3'])", lambda: CellSpace(ops=["nor_conv_3x3", "nor_conv_3x3"]), ("ops",)),
        ("CellSpace(ops=['conv'])", lambda: CellSpace(ops=["conv"]), ("conv",)),
        ("CellSpace(channels=0)", lambda: CellSpace(channels=0), ("channels",)),
        ("CellSpace(n_cells=0)", lambda: CellSpace(n_cells=0), ("n_cells",)),
        ("CellSpace(n_stages=0)", lambda: CellSpace(n_stages=0), ("n_stages",)),
        ("CellSpace(n_node=4) (misspelt)", lambda: CellSpace(n_node=4), ("n_nodes",)),
        ("GraphSpace(ops=['gcn', 'nope'])", lambda: GraphSpace(ops=["gcn", "nope"]), ("nope",)),
        ("GraphSpace(ops=['skip'])", lambda: GraphSpace(ops=["skip"]), ("skip",)),
        ("GraphSpace(ops='gcn')", lambda: GraphSpace(ops="gcn"), ("ops",)),
        ("GraphSpace(ops=[])", lambda: GraphSpace(ops=[]), ("ops",)),
        ("GraphSpace(ops=None)", lambda: GraphSpace(ops=None), ("ops",)),
        ("ChainSpace(kind='rnn')", lambda: ChainSpace(kind="rnn"), ("kind", "cnn")),
        ("ChainSpace(min_depth=0)", lambda: ChainSpace(min_depth=0), ("min_depth",)),
        ("ChainSpace(max_depth=1, min_depth=2)", lambda: ChainSpace(min_depth=2, max_depth=1), ("max_depth",)),
        ("ChainSpace(widths=[0])", lambda: ChainSpace(widths=[0]), ("widths",)),
        ("ChainSpace(widths=[16.5])", lambda: ChainSpace(widths=[16.5]), ("widths",)),
        ("ChainSpace(widths=16)", lambda: ChainSpace(widths=16), ("widths",)),
        ("ChainSpace(kind='mlp', ops=['conv3x3'])", lambda: ChainSpace(kind="mlp", ops=["conv3x3"]), ("conv3x3",)),
        ("ConvDenseSpace(conv_ops=['x'])", lambda: ConvDenseSpace(conv_ops=["x"]), ("x",)),
        ("ConvDenseSpace(max_conv=-1)", lambda: ConvDenseSpace(max_conv=-1), ("max_conv",)),
        ("ConvDenseSpace(min_dense=3, max_dense=2)", lambda: ConvDenseSpace(min_dense=3), ("max_dense",)),
        ("ConvDenseSpace(dense_widths=[])", lambda: ConvDenseSpace(dense_widths=[]), ("dense_widths",)),
        ("ConvDenseSpace(conv_widths=[4, 4])", lambda: ConvDenseSpace(conv_widths=[4, 4]), ("conv_widths",)),
        ("SubsetSpace('cell', [...])", lambda: SubsetSpace("cell", [c.sample(np.random.default_rng(0))]), ("space",)),
        ("SubsetSpace(c, [])", lambda: SubsetSpace(c, []), ("archs",)),
        ("SubsetSpace(c, [a, a])", lambda: SubsetSpace(c, [c.sample(np.random.default_rng(0))] * 2), ("twice",)),
        ("SubsetSpace(c, [GraphSpace arch])", lambda: SubsetSpace(c, [ga]), ("archs",)),
        ("SubsetSpace(c, ['abc'])", lambda: SubsetSpace(c, ["abc"]), ("archs",)),
        ("SubsetSpace(c, a generator)", lambda: SubsetSpace(c, (c.sample(np.random.default_rng(i)) for i in range(3))), ("archs",)),
        ("SearchSpace.from_config({'class': 'Nope'})", lambda: SearchSpace.from_config({"class": "Nope", "params": {}}), ("Nope",)),
        ("CellSpace.from_config(GraphSpace's config)", lambda: CellSpace.from_config(g.to_config()), ("GraphSpace",)),
        ("CellSpace.from_config(params with a typo)", lambda: CellSpace.from_config({"class": "CellSpace", "params": {"n_node": 4}}), ("n_node",)),
        ("SearchSpace.from_config({'class': 'SearchSpace'})", lambda: SearchSpace.from_config({"class": "SearchSpace", "params": {}}), ("SearchSpace",)),
    ):
        check(Q, what, make, "refused", says)
    sub = SubsetSpace(c, [c.sample(np.random.default_rng(i)) for i in range(5)])
    outside = next(x for x in (c.sample(np.random.default_rng(100 + i)) for i in range(100)) if x.id not in sub.ids)
    check(Q, "SubsetSpace.make(spec of a parent arch not in the subset)", lambda: sub.make(**outside.spec), "refused", ("not one of",))
    check(Q, "SubsetSpace: parent member in subset is False", lambda: _false(c.make(**sub.members[0].spec) in sub))
    check(Q, "SubsetSpace.validate(parent member): says from_parent", lambda: sub.validate(sub.to_parent(sub.members[0])), "refused", ("from_parent",))
    check(Q, "SubsetSpace.index('no such id')", lambda: sub.index("nope"), "refused", ("nope",))
    check(Q, "SubsetSpace.index(42)", lambda: sub.index(42), "refused", ("42",))
    check(Q, "SubsetSpace.from_parent(a non-member)", lambda: sub.from_parent(outside), "refused", ())
    check(Q, "SubsetSpace.to_parent(a parent arch)", lambda: sub.to_parent(outside), "refused", ())
    check(Q, "SubsetSpace of one member: mutate", lambda: SubsetSpace(c, [outside]).mutate(
        SubsetSpace(c, [outside]).members[0], np.random.default_rng(0)), "refused", ("mutate",))
    check(Q, "CellSpace.build(a GraphSpace arch)", lambda: c.build(ga, (1, 8, 8), 10), "refused", ("space",))
    check(Q, "GraphSpace.build(arch)", lambda: g.build(ga, (1, 8, 8), 10), "refused", ("tabular",))
    check(Q, "CellSpace.build(input_shape=(8, 8))", lambda: c.build(c.sample(np.random.default_rng(0)), (8, 8), 10), "either", ("input_shape",))
    check(Q, "CellSpace.build(n_classes=0)", lambda: c.build(c.sample(np.random.default_rng(0)), (1, 8, 8), 0), "refused", ("n_classes",))
    check(Q, "CellSpace.build(input_shape='1,8,8')", lambda: c.build(c.sample(np.random.default_rng(0)), "1,8,8", 10), "refused", ("input_shape",))


def _false(v: bool) -> str:
    if v is not False:
        raise Wrong(f"expected False, got {v!r}")
    return "False"


def _member_or_refused(space: Any, other: Any) -> Any:
    """Another space's spec: refused, or (when the spaces share a spec format) a member of this space."""
    a = space.from_dict(other.to_dict())
    if a not in space:
        raise Wrong("from_dict gave a non-member")
    return a


def _forged(space: Any, a: Any) -> Any:
    from nasbook.space import Architecture

    spec = a.spec
    key = next(iter(spec))
    val = spec[key]
    spec[key] = list(reversed(val)) if isinstance(val, list) and len(val) > 1 and list(reversed(val)) != val else val + [val[0]] if isinstance(val, list) else val
    return Architecture(space.space_id, a.id, spec)
