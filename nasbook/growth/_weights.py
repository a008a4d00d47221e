"""Copy a trained parent's weights into its grown child (torch).

Works on the networks ``ChainSpace.build`` and ``CellSpace.build`` return, for 1-D and 2-D
inputs alike: it only relies on ``Conv1d``/``Conv2d``/``Linear`` weights being
``(out, in, *kernel)`` and ``BatchNorm1d``/``BatchNorm2d`` holding one entry per channel.

Returns the *sites* of the new capacity (qualified module names and how it enters), which
:mod:`nasbook.growth._seeds` turns into soft-landing seeds. ``widen`` needs no seed: it is exact
by construction (``method="zero"``, the default: new units start random and the next layer's
weights on them start at zero, so it ignores them until training gives them weight; or
``"net2net"``: new units copy existing ones and the next layer's weights are split between the
copies, unevenly).

Why ``"zero"`` is the default: the uneven split breaks the copies' symmetry only under SGD. Adam
(and AdamW, nasbook's default optimizers) normalises each parameter's update by its own gradient
scale, and a copy's gradients are the original's times a constant (its share), so the copies get
identical updates and stay copies: on MNIST-1D, 18 of 32 first-layer filters widened from 8 were
still near-duplicates after 4 epochs of Adam (none with ``"zero"``), and the widened network kept
the parent's effective width (see docs/benchmarks.md, "Growth").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from nasbook._errors import InvalidParameterError
from nasbook.growth._moves import GrowthMove
from nasbook.space import CellSpace, ChainSpace

_POOLS = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_PARAM = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
#: how widened units are initialised (``method=``): "zero" (new units' outgoing weights zero) or "net2net"
#: (units copied and their outgoing weights split)
METHODS: tuple[str, ...] = ("zero", "net2net")
#: the widening used unless told otherwise (see the module docstring)
DEFAULT_METHOD = "zero"


def chain_segments(net: nn.Module, kind: str) -> tuple[list[list[int]], int]:
    """Indices of the modules of each layer of a built chain, and the index of the linear head.

    Parameters
    ----------
    net : torch.nn.Module
        A network ``ChainSpace.build`` made (a sequence of modules).
    kind : {"cnn", "mlp"}
        The chain's kind: a ``cnn`` layer ends at its ReLU (the pooling tail is not a layer); an
        ``mlp`` layer is a pair of modules.

    Returns
    -------
    segments : list of list of int
        For each layer, the indices of its modules among ``net``'s children.
    head : int
        Index of the last child, the linear head.
    """
    mods = list(net.children())
    head = len(mods) - 1
    segments: list[list[int]] = []
    current: list[int] = []
    if kind == "cnn":
        for i, m in enumerate(mods[:head]):
            if isinstance(m, _POOLS):
                break
            current.append(i)
            if isinstance(m, nn.ReLU):
                segments.append(current)
                current = []
    else:
        body = [i for i in range(head) if not isinstance(mods[i], nn.Flatten)]
        segments = [body[k:k + 2] for k in range(0, len(body), 2)]
    return segments, head


def _copy(src: nn.Module, dst: nn.Module) -> None:
    dst.load_state_dict(src.state_dict())


def transfer(space: Any, move: GrowthMove, parent: nn.Module, child: nn.Module, *, method: str = DEFAULT_METHOD,
             generator: torch.Generator | None = None) -> list[dict[str, Any]]:
    """Load ``parent``'s weights into ``child`` (built for ``move.child``); return the seed sites."""
    if method not in METHODS:
        raise InvalidParameterError(f"growth method must be one of {list(METHODS)!r}; got {method!r}.")
    with torch.no_grad():
        if isinstance(space, ChainSpace):
            return _chain(space.kind, move, parent, child, method, generator)
        if isinstance(space, CellSpace):
            return _cell(space, move, parent, child)
    raise InvalidParameterError(f"cannot grow networks of {space!r}: only ChainSpace and CellSpace.")


# -- chains -------------------------------------------------------------------------------------------
def _chain(kind: str, move: GrowthMove, parent: nn.Module, child: nn.Module, method: str,
           gen: torch.Generator | None) -> list[dict[str, Any]]:
    pmods, cmods = list(parent.children()), list(child.children())
    pseg, phead = chain_segments(parent, kind)
    cseg, chead = chain_segments(child, kind)
    names = [n for n, _ in child.named_children()]
    if move.kind == "deepen":
        p = int(move.params["position"])
        mapping = [(pseg[k], cseg[k if k < p else k + 1]) for k in range(len(pseg))]
        for src, dst in mapping:
            for a, b in zip(src, dst):
                _copy(pmods[a], cmods[b])
        _copy(pmods[phead], cmods[chead])
        new = cseg[p]
        for i in new:  # g starts near the identity, so its shadow loss starts near the trunk's
            m = cmods[i]
            if isinstance(m, nn.Linear) and m.in_features == m.out_features:
                nn.init.eye_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and m.in_channels == m.out_channels:
                nn.init.dirac_(m.weight, groups=m.groups if m.groups == m.in_channels else 1)
        return [{"mode": "lerp", "first": names[new[0]], "last": names[new[-1]]}]
    layer = int(move.params["layer"])
    for k in range(len(pseg)):
        if k not in (layer, layer + 1):
            for a, b in zip(pseg[k], cseg[k]):
                _copy(pmods[a], cmods[b])
    if layer + 1 >= len(pseg):
        _widen(kind, [pmods[i] for i in pseg[layer]], [cmods[i] for i in cseg[layer]],
               [pmods[phead]], [cmods[chead]], method, gen)
    else:
        _widen(kind, [pmods[i] for i in pseg[layer]], [cmods[i] for i in cseg[layer]],
               [pmods[i] for i in pseg[layer + 1]], [cmods[i] for i in cseg[layer + 1]], method, gen)
        _copy(pmods[phead], cmods[chead])
    return []


def _rows(src: torch.Tensor, dst: torch.Tensor, index: torch.Tensor, keep_new: bool) -> None:
    """dst[:n] = src; dst[n:] = src[index] (or left as initialised when keep_new)."""
    n = src.shape[0]
    dst[:n] = src
    if not keep_new:
        dst[n:] = src[index]


def _widen(kind: str, p_layer: Sequence[nn.Module], c_layer: Sequence[nn.Module], p_next: Sequence[nn.Module],
           c_next: Sequence[nn.Module], method: str, gen: torch.Generator | None) -> None:
    """Widen the output of one layer and the input of what consumes it."""
    zero = method == "zero"
    p_par = [m for m in p_layer if isinstance(m, (*_PARAM, *_BN))]
    c_par = [m for m in c_layer if isinstance(m, (*_PARAM, *_BN))]
    producer = max(k for k, m in enumerate(p_par) if isinstance(m, _PARAM))
    n_old = int(p_par[producer].weight.shape[0])
    n_new = int(c_par[producer].weight.shape[0])
    index = torch.randint(0, n_old, (n_new - n_old,), generator=gen)
    for k, (a, b) in enumerate(zip(p_par, c_par)):
        if k < producer:
            _copy(a, b)
            continue
        for name, t in itertools.chain(a.named_parameters(recurse=False), a.named_buffers(recurse=False)):
            dst = getattr(b, name)
            if t.dim() == 0:  # num_batches_tracked
                dst.copy_(t)
            else:
                _rows(t, dst, index, keep_new=zero)
    # the consumer: a depthwise convolution (sepconv) widens with it, then its pointwise convolution or
    # the next dense layer / the head takes the new inputs
    p_nx = [m for m in p_next if isinstance(m, (*_PARAM, *_BN))]
    c_nx = [m for m in c_next if isinstance(m, (*_PARAM, *_BN))]
    k = 0
    first = p_nx[0]
    if isinstance(first, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and first.groups == first.in_channels and first.groups > 1:
        for name, t in first.named_parameters(recurse=False):
            _rows(t, getattr(c_nx[0], name), index, keep_new=zero)
        k = 1
    cons_p, cons_c = p_nx[k], c_nx[k]
    w_old, w_new = cons_p.weight, cons_c.weight
    w_new[:, :n_old] = w_old
    if zero:
        w_new[:, n_old:] = 0.0
    else:
        # split unit j's outgoing weights between j and its copies, with random shares that sum to 1
        shares = torch.rand(n_new, generator=gen) + 0.5
        total = torch.zeros(n_old).index_add_(0, torch.arange(n_old), shares[:n_old]).index_add_(0, index, shares[n_old:])
        source = torch.cat([torch.arange(n_old), index])
        frac = shares / total[source]
        w_new.copy_(w_old[:, source] * frac.view(1, -1, *([1] * (w_old.dim() - 2))).to(w_old.dtype))
    bias_p, bias_c = getattr(cons_p, "bias", None), getattr(cons_c, "bias", None)
    if isinstance(bias_p, torch.Tensor) and isinstance(bias_c, torch.Tensor):
        bias_c.copy_(bias_p)
    for a, b in zip(p_nx[k + 1:], c_nx[k + 1:]):
        _copy(a, b)


# -- cells --------------------------------------------------------------------------------------------
def _cells(net: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in net.named_modules() if hasattr(m, "edge_list") and hasattr(m, "edge_ops")]


def _relabel(space: CellSpace, raw: list[tuple[int, int, str]], canon: list[tuple[int, int, str]]) -> dict[int, int]:
    """A relabelling of the intermediate nodes that turns the raw edge set into the canonical one."""
    n = space.n_nodes
    target = set(canon)
    for perm in itertools.permutations(range(1, n - 1)):
        pi = {0: 0, n - 1: n - 1, **{a: b for a, b in zip(range(1, n - 1), perm)}}
        if {(pi[i], pi[j], op) for i, j, op in raw} == target:
            return pi
    raise AssertionError("no relabelling maps the grown cell onto its canonical form")  # pragma: no cover


def _cell(space: CellSpace, move: GrowthMove, parent: nn.Module, child: nn.Module) -> list[dict[str, Any]]:
    p_live = [(i, j, op) for (i, j), op in zip(space.edges, move.parent["edges"]) if op != "none"]
    k = int(move.params["edge"])
    new_edge = (*space.edges[k], str(move.params["op"]))
    c_live = [(i, j, op) for (i, j), op in zip(space.edges, move.child["edges"]) if op != "none"]
    pi = _relabel(space, [*p_live, new_edge], c_live)
    p_cells, c_cells = _cells(parent), _cells(child)
    cell_names = {n for n, _ in c_cells}
    # everything outside the cells (stem, reductions, final norm, head) has the same structure
    p_state = parent.state_dict()
    c_state = child.state_dict()
    for key in c_state:
        if not any(key.startswith(n + ".") for n in cell_names):
            c_state[key] = p_state[key]
    child.load_state_dict(c_state)
    sites = []
    c_index = {(i, j): e for e, (i, j, _) in enumerate(c_live)}
    for (_, pc), (cname, cc) in zip(p_cells, c_cells):
        p_ops, c_ops = pc.get_submodule("edge_ops"), cc.get_submodule("edge_ops")
        for e, (i, j, _) in enumerate(p_live):
            _copy(p_ops[e], c_ops[c_index[(pi[i], pi[j])]])  # type: ignore[index]
        sites.append(f"{cname}.edge_ops.{c_index[(pi[new_edge[0]], pi[new_edge[1]])]}")
    return [{"mode": "add", "first": s, "last": s} for s in sites]
