"""The zero-cost proxies on one network and one minibatch: the torch side of :mod:`nasbook.proxies`.

Every proxy is returned so that **higher = predicted better**, which is also how each was
published (none is negated here; ``jacov`` is published as the negated eigenvalue sum below and
kept so). Proxies that need the same pass share it: two half-batch cross-entropy passes give
``zico`` (which needs two batches) and, from their mean gradient, ``grad_norm``, ``snip`` and
``fisher``; by default (``jacobian_batch="halves"``) the same two passes also give ``naswot`` and
``meco`` (forward hooks) and ``jacov`` (a second, input-only backward of the output sum on each
half's graph); with ``jacobian_batch="full"`` these three come from a separate full-batch
forward/backward of the output sum to the input (BatchNorm statistics over the whole batch, the
definition before round 3); ``synflow`` runs the network on float64 |weights| through
``torch.func.functional_call`` (no copy of the network), and its one-sample forward pass also
counts ``flops``; ``params`` counts. Every backward asks ``torch.autograd.grad`` for just the
gradients its proxies use (no ``.grad`` accumulated, no weight gradient in the Jacobian pass).

The network is left as it was: its parameters, buffers (BatchNorm running statistics), train/eval
flags, ``requires_grad`` flags and ``.grad`` are restored (see :func:`preserved`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from nasbook.proxies._flops import count_flops
from nasbook.proxies._flops import flop_hook as _flop_hook
from nasbook.proxies._flops import weight as _weight
from nasbook.proxies._flops import weighted as _weighted

#: proxies in the order :func:`nasbook.proxies.compute` reports them
PROXIES: tuple[str, ...] = ("synflow", "snip", "grad_norm", "fisher", "jacov", "naswot", "zico", "meco", "params", "flops")

#: what each proxy measures and how it is oriented, for docs and Dataset attrs
DESCRIPTIONS: dict[str, str] = {
    "synflow": "sum |theta * d R / d theta| with R the output sum of the |weights| network in float64 on an all-ones "
               "input, BatchNorm as identity (Tanaka et al. 2020; Abdelfattah et al. 2021). Published: higher = better.",
    "snip": "sum |theta * dL/dtheta| over conv/linear weights, L the batch's cross-entropy (mean of the two halves' "
            "gradients) (Lee et al. 2019). "
            "Published: higher = better.",
    "grad_norm": "sum of the L2 norms of dL/dW over conv/linear layers (Abdelfattah et al. 2021). Published: higher = better.",
    "fisher": "sum over channels of 0.5 * mean over samples of (sum over positions of a * dL/da)^2, a the output of every "
              "conv/linear layer (Turner et al. 2020). Published: higher = better.",
    "jacov": "-sum(log(v + 1e-5) + 1 / (v + 1e-5)), v the eigenvalues of the correlation matrix of the per-sample input "
             "Jacobians of the output sum (Mellor et al. 2020, v1). Published (already negated): higher = better.",
    "naswot": "log|det K|, K[i, j] = number of activation units on which samples i and j agree (both active or both "
              "inactive) (Mellor et al. 2021). Published: higher = better; -inf when two samples get the same code.",
    "zico": "sum over conv/linear layers of log(sum over weights of mean|g| / std(g)), g the gradients of two halves "
            "of the batch (Li et al. 2023). Published: higher = better.",
    "meco": "sum over layers with feature maps of the smallest eigenvalue of the Pearson correlation between the "
            "channels of the first sample's feature map (between samples for layers without positions) "
            "(Jiang et al. 2023). Published: higher = better.",
    "params": "number of trainable parameters. Oriented as larger = predicted better.",
    "flops": "forward FLOPs of one sample (torch.utils.flop_counter; a multiply-add counts 2). Larger = predicted better.",
}

#: NASWOT's agreement counts are summed in float32 over at most this many units at a time (exact)
_EXACT_UNITS = 2**23
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Tanh, nn.Sigmoid, nn.Hardswish, nn.Mish)


@contextlib.contextmanager
def preserved(net: nn.Module, parameters: bool = True) -> Iterator[None]:
    """Run a block that may train-step, hook or flag ``net``; restore all of it afterwards.

    Parameters
    ----------
    net : torch.nn.Module
        The network whose parameters, buffers, train/eval flags, ``requires_grad`` and ``.grad``
        are restored when the block exits.
    parameters : bool, default True
        False for a block that never writes to a parameter (the proxies: gradients come from
        ``torch.autograd.grad``, synflow's |weights| are copies): only the buffers (BatchNorm's
        running statistics) are saved and restored, and a parameter written to in place anyway
        (its version counter moved) raises RuntimeError.

    Yields
    ------
    None
        Control to the block.
    """
    sd = net.state_dict(keep_vars=True)
    param_ids = {id(p) for p in net.parameters()}
    saved = {k: v for k, v in sd.items() if parameters or id(v) not in param_ids}
    state = {k: v.detach().clone() for k, v in saved.items()}
    versions = {p: p._version for p in net.parameters()} if not parameters else {}
    modes = {m: m.training for m in net.modules()}
    flags = {p: (p.requires_grad, p.grad) for p in net.parameters()}
    try:
        yield
    finally:
        with torch.no_grad():
            for k, v in saved.items():
                v.copy_(state[k])
        for m, mode in modes.items():
            m.training = mode
        for p, (req, grad) in flags.items():
            p.requires_grad_(req)
            p.grad = grad
        if any(p._version != v for p, v in versions.items()):
            raise RuntimeError("preserved(parameters=False): a parameter was written to in place and cannot be restored")


# -- two half-batch cross-entropy passes: grad_norm, snip, fisher, zico (and by default jacov, naswot, meco) ------
def _halves_pass(net: nn.Module, x: torch.Tensor, y: torch.Tensor, want: set[str],
                 forward: set[str] | frozenset[str] = frozenset()) -> dict[str, float]:
    """ZiCo needs the gradients of two batches; the others take their mean (the gradient of the
    batch's mean loss, BatchNorm statistics per half), so one scheme serves all four at the cost
    of one full pass, and a proxy's value does not depend on which others were asked for.

    Each half's backward asks ``torch.autograd.grad`` for the conv/linear weights' gradients (and
    the layer outputs' for fisher) only: no ``.grad`` to zero, clone or restore, and no gradient of
    a BatchNorm or bias parameter is computed.

    ``forward``: the proxies of :func:`_jacobian_pass` (jacov, naswot, meco) to take from these same
    two passes instead of a separate full-batch pass: NASWOT's codes of both halves (K over the
    whole batch), MeCo's feature maps of the first half's forward, jacov's input gradients of the
    output sum, one input-only backward per half on the same graph (``retain_graph``)."""
    layers = _weighted(net)
    weights = [_weight(m) for m in layers]
    acts: list[torch.Tensor] = []
    grad_wanted = bool(want & {"grad_norm", "snip", "fisher", "zico"})
    keep_acts = "fisher" in want

    def keep(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        if out.requires_grad:
            acts.append(out)

    handles = [m.register_forward_hook(keep) for m in layers] if keep_acts else []
    fw = _ForwardProbes(net, forward)
    halves = [slice(int(idx[0]), int(idx[-1]) + 1) for idx in np.array_split(np.arange(x.shape[0]), 2) if len(idx)]
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    fisher_parts: list[torch.Tensor] = []
    jacs: list[torch.Tensor] = []
    weight_ids = {id(w) for w in weights}
    others = [p for p in net.parameters() if id(p) not in weight_ids]
    for p in others:  # their gradients are not used (preserved() restores the flags)
        p.requires_grad_(False)
    if not grad_wanted:
        for w in weights:
            w.requires_grad_(False)
    try:
        for idx in halves:
            acts.clear()
            xi = x[idx].detach().clone().requires_grad_(True) if "jacov" in forward else x[idx]
            with torch.set_grad_enabled(grad_wanted or "jacov" in forward):
                out_ = net(xi)
            if "jacov" in forward:  # the input's gradient of the output sum, on the same graph
                jacs.append(torch.autograd.grad(out_.sum(), xi, retain_graph=grad_wanted)[0])
            if not grad_wanted:
                continue
            loss = nn.functional.cross_entropy(out_, y[idx])
            got = torch.autograd.grad(loss, [*weights, *acts], allow_unused=True)
            for i, g in enumerate(got[: len(weights)]):
                if g is not None:
                    grads[i].append(g)
            with torch.no_grad():
                for a, ag in zip(acts, got[len(weights):]):
                    if ag is not None:
                        prod = a * ag
                        per_channel = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                        fisher_parts.append(per_channel.pow(2).sum().double() * 0.5)
    finally:
        for hd in handles:
            hd.remove()
        fw.remove()
        acts.clear()
    out: dict[str, float] = {}
    with torch.no_grad():
        mean_grads = [(w, torch.stack(g).mean(0)) for w, g in zip(weights, grads) if g]
        if "grad_norm" in want:
            out["grad_norm"] = _total([g.norm(2) for _, g in mean_grads])
        if "snip" in want:
            out["snip"] = _total([(w * g).abs().sum() for w, g in mean_grads])
        if "fisher" in want:
            out["fisher"] = _total(fisher_parts) / x.shape[0]
        if "zico" in want:
            out["zico"] = _zico(grads)
        out.update(fw.values(x.shape[0], torch.cat(jacs) if jacs else None))
    return out


def _total(parts: list[torch.Tensor]) -> float:
    """The sum of 0-d tensors, in float64, with one conversion to a Python float."""
    return float(torch.stack([p.double() for p in parts]).sum()) if parts else 0.0


def _zico(grads: list[list[torch.Tensor]]) -> float:
    """ZiCo from each layer's per-batch gradients: sum over layers of log(sum of mean|g| / std(g))."""
    total = 0.0
    for gs in grads:
        if len(gs) < 2:
            continue
        if len(gs) == 2:  # two batches: std = |a - b| / 2 (torch's std over a dim of 2 is slow)
            a, b = gs[0].reshape(-1).double(), gs[1].reshape(-1).double()
            std, mean_abs = (a - b).abs_().div_(2), (a.abs() + b.abs()).div_(2)
        else:
            g = torch.stack([t.reshape(-1).double() for t in gs])
            std, mean_abs = g.std(0, unbiased=False), g.abs().mean(0)
        ratio = torch.where(std > 0, mean_abs / std, 0.0)
        s_ = float(ratio.sum())
        if s_ > 0:
            total += math.log(s_)
    return total


# -- one input-Jacobian pass: jacov; its forward: naswot, meco ----------------------------------------
def _corr(rows: torch.Tensor) -> torch.Tensor | None:
    """The Pearson correlation of ``rows`` in float64 (NaN and inf set to 0), or None below 2 x 2."""
    if rows.shape[0] < 2 or rows.shape[1] < 2:
        return None
    return _corrcoef(rows.double())


def _corrcoef(rows: torch.Tensor) -> torch.Tensor:
    """``torch.corrcoef`` of float64 rows with NaN and inf set to 0, in four kernels (torch's takes
    about twenty, which on the small matrices here cost more than the arithmetic); equal to it up
    to rounding (a few ulps)."""
    x = rows - rows.mean(1, keepdim=True)
    c = x @ x.T
    d = c.diagonal().sqrt()
    c = (c / d[:, None] / d[None, :]).clamp_(-1.0, 1.0)
    return torch.nan_to_num_(c, nan=0.0, posinf=0.0, neginf=0.0)


def _smallest_eigenvalues(mats: list[torch.Tensor | None]) -> list[float]:
    """The smallest eigenvalue of each symmetric matrix (NaN for None), one batched eigvalsh per size."""
    out = [math.nan] * len(mats)
    by_size: dict[int, list[int]] = {}
    for i, m in enumerate(mats):
        if m is not None:
            by_size.setdefault(m.shape[0], []).append(i)
    for idx in by_size.values():
        smallest = torch.linalg.eigvalsh(torch.stack([mats[i] for i in idx]))[:, 0].tolist()  # type: ignore[misc]
        for i, v in zip(idx, smallest):
            out[i] = v
    return out


def _agreements(codes: list[torch.Tensor], n: int) -> torch.Tensor:
    """NASWOT's K (float64): K[i, j] = sum over the codes' units of [c_i == c_j], for boolean codes (n, units).

    Over a group of units, K = c c^T + (1 - c)(1 - c)^T = units - |c_i| - |c_j| + 2 c_i.c_j: whole
    numbers, computed exactly by one float32 matrix product per group of codes under 2**23 units
    (every partial result stays under 2**24), in float64 for a larger code."""
    kmat = torch.zeros(n, n, dtype=torch.float64, device=codes[0].device if codes else None)
    groups: list[list[torch.Tensor]] = []
    size = 0
    for c in codes:
        if not groups or size + c.shape[1] >= _EXACT_UNITS:
            groups.append([])
            size = 0
        groups[-1].append(c)
        size += c.shape[1]
    for group in groups:
        units = sum(c.shape[1] for c in group)
        c = torch.cat(group, dim=1).to(torch.float32 if units < _EXACT_UNITS else torch.float64)
        r = c.sum(1, keepdim=True)
        kmat += (2 * (c @ c.T) - r - r.T + units).double()
    return kmat


class _ForwardProbes:
    """Forward hooks for NASWOT (every activation's input sign code) and MeCo (every conv/linear
    output's channel correlation, of the batch's first sample; between the samples of the whole
    batch for an output without positions), and jacov, naswot and meco from them and the input
    Jacobian. The batch may come in several forward calls (the halves): codes and position-free
    outputs are joined in sample order."""

    def __init__(self, net: nn.Module, want: set[str] | frozenset[str]):
        self.want = want
        self.codes: list[list[torch.Tensor]] = []  # one list per forward call, in activation order
        self.mats: list[torch.Tensor | None] = []  # MeCo's matrices, layer order (None: rows below)
        self.rows: dict[int, list[torch.Tensor]] = {}  # MeCo's position-free outputs, by slot, per call
        self.slot = 0
        self.calls = 0
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        if want & {"naswot", "meco"}:
            self.handles.append(net.register_forward_pre_hook(self._call))
        if "naswot" in want:
            self.handles += [m.register_forward_pre_hook(self._code) for m in net.modules() if isinstance(m, _ACTIVATIONS)]
        if "meco" in want:
            self.handles += [m.register_forward_hook(self._corr) for m in _weighted(net)]

    def _call(self, _m: nn.Module, _i: object) -> None:
        self.codes.append([])
        self.calls += 1
        self.slot = 0

    def _code(self, _m: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        inp = inputs[0]
        self.codes[-1].append(inp.detach().reshape(inp.shape[0], -1) > 0)

    def _corr(self, _m: nn.Module, _i: object, out: torch.Tensor) -> None:
        fea = out.detach()
        slot, self.slot = self.slot, self.slot + 1
        if fea.dim() <= 2:  # between samples: every call's rows
            if self.calls == 1:
                self.mats.append(None)
            self.rows.setdefault(slot, []).append(fea.reshape(fea.shape[0], -1))
        elif self.calls == 1:  # the first sample's channels
            self.mats.append(_corr(fea[0].reshape(fea.shape[1], -1)))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def values(self, n: int, jac: torch.Tensor | None) -> dict[str, float]:
        res: dict[str, float] = {}
        if "jacov" in self.want and jac is not None:
            corr_ = _corrcoef(jac.reshape(n, -1).double())
            v = torch.linalg.eigvalsh(corr_)
            k = 1e-5
            res["jacov"] = float(-torch.sum(torch.log(v.clamp_min(0) + k) + 1.0 / (v.clamp_min(0) + k)))
        if "naswot" in self.want:
            calls = [c for c in self.codes if c]
            codes = [torch.cat(parts) for parts in zip(*calls)] if len(calls) > 1 else (calls[0] if calls else [])
            sign, logdet = torch.linalg.slogdet(_agreements(codes, n))
            res["naswot"] = float(logdet) if float(sign) > 0 else -math.inf
        if "meco" in self.want:
            mats = [_corr(torch.cat(self.rows[i])) if m is None and i in self.rows else m for i, m in enumerate(self.mats)]
            vals = [v for v in _smallest_eigenvalues(mats) if math.isfinite(v)]
            res["meco"] = float(sum(vals)) if vals else math.nan
        return res


def _jacobian_pass(net: nn.Module, x: torch.Tensor, want: set[str]) -> dict[str, float]:
    """jacov, naswot and meco from one separate full-batch forward (BatchNorm statistics over the
    whole batch) and, for jacov, its backward to the input: ``jacobian_batch="full"``."""
    fw = _ForwardProbes(net, want)
    for p in net.parameters():  # only the input's gradient is asked for (the caller restores the flags)
        p.requires_grad_(False)
    xg = x.detach().clone().requires_grad_("jacov" in want)
    jac = None
    try:
        if "jacov" in want:
            (jac,) = torch.autograd.grad(net(xg).sum(), xg)  # the input's gradient only, no weight's
        else:
            with torch.no_grad():
                net(xg)
    finally:
        fw.remove()
    return fw.values(x.shape[0], jac)


# -- synflow: |weights|, float64, BatchNorm as identity, all-ones input -------------------------------
def _synflow(net: nn.Module, x: torch.Tensor, trainable: set[str], flops: list[float] | None = None) -> float:
    """Synflow of ``net`` through ``torch.func.functional_call`` on float64 |weights| (the network
    itself is not copied or changed; it runs in eval mode, as the caller arranges), summed over the
    ``trainable`` parameters (names); ``flops``, when given, gets the FLOPs counted in the same pass."""
    from torch.func import functional_call

    tensors: dict[str, torch.Tensor] = {
        k: v.detach().double() if v.is_floating_point() else v for k, v in net.named_buffers()
    }
    params = {k: v.detach().double() for k, v in net.named_parameters()}
    epsilons: list[tuple[nn.modules.batchnorm._BatchNorm, float]] = []
    for name, m in net.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            pre = f"{name}." if name else ""
            if m.running_mean is not None:
                tensors[pre + "running_mean"] = torch.zeros_like(tensors[pre + "running_mean"])
                tensors[pre + "running_var"] = torch.ones_like(tensors[pre + "running_var"])
                epsilons.append((m, m.eps))
            if m.affine:
                params[pre + "weight"] = torch.ones_like(params[pre + "weight"])
                params[pre + "bias"] = torch.zeros_like(params[pre + "bias"])
    leaves = {k: v.abs().requires_grad_(k in trainable) for k, v in params.items()}
    handles = [m.register_forward_hook(_flop_hook(flops)) for m in _weighted(net)] if flops is not None else []
    try:
        for m, _ in epsilons:
            m.eps = 0.0
        out = functional_call(net, {**tensors, **leaves}, (torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device),))
    finally:
        for m, eps in epsilons:
            m.eps = eps
        for h in handles:
            h.remove()
    names = [k for k, v in leaves.items() if v.requires_grad]
    if not names:  # every parameter frozen: an empty sum
        return 0.0
    got = torch.autograd.grad(out.sum(), [leaves[k] for k in names], allow_unused=True)
    with torch.no_grad():
        return _total([(leaves[k] * g).abs().sum() for k, g in zip(names, got) if g is not None])


#: where jacov, naswot and meco come from (see :func:`score_network`)
JACOBIAN_BATCH = ("halves", "full")


def score_network(net: nn.Module, x: torch.Tensor, y: torch.Tensor, names: Sequence[str],
                  timer: Callable[[str, float], None] | None = None, jacobian_batch: str = "halves") -> dict[str, float]:
    """Every proxy in ``names`` of ``net`` on the batch ``(x, y)``, sharing passes; ``net`` is restored.

    The gradient proxies run in train mode (BatchNorm on batch statistics, dropout active and drawn
    from torch's generator: seed it for repeatable scores), as their papers do. ``jacobian_batch``:
    ``"halves"`` takes jacov, naswot and meco from the two half-batch passes of the gradient proxies
    (BatchNorm statistics per half; one pass fewer); ``"full"`` from a separate full-batch pass (the
    definition before nasbook's round-3 speed-up; the values it gave are pinned in the tests).
    """
    import time

    want = set(names)
    out: dict[str, float] = {}

    def timed(label: str, fn: Callable[[], dict[str, float]]) -> None:
        t0 = time.perf_counter()
        out.update(fn())
        if timer is not None:
            timer(label, time.perf_counter() - t0)

    trainable = {k for k, p in net.named_parameters() if p.requires_grad}
    flops = [0.0] if "flops" in want and "synflow" in want else None
    with preserved(net, parameters=False):  # no proxy writes to a parameter
        net.train()
        for p in net.parameters():
            p.requires_grad_(True)
        forward = want & {"jacov", "naswot", "meco"}
        if jacobian_batch == "halves" and forward:
            timed("halves", lambda: _halves_pass(net, x, y, want, forward))
        else:
            if want & {"grad_norm", "snip", "fisher", "zico"}:
                timed("halves", lambda: _halves_pass(net, x, y, want))
            if forward:
                timed("jacobian", lambda: _jacobian_pass(net, x, want))
        if "synflow" in want:  # in eval mode; its forward on one sample also counts the FLOPs
            net.eval()
            timed("synflow", lambda: {"synflow": _synflow(net, x, trainable, flops)})
    if "params" in want:
        out["params"] = float(sum(p.numel() for p in net.parameters() if p.requires_grad))
    if flops is not None:
        out["flops"] = flops[0]
    elif "flops" in want:
        timed("flops", lambda: {"flops": count_flops(net, x)})
    return {n: out[n] for n in names}
