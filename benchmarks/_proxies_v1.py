"""FROZEN COPY, for benchmarks/proxies_speed.py only: ``nasbook/proxies/_zc.py`` as it was at nasbook
commit 8b7c194, before the proxies were made faster (a deepcopy for synflow, ``.grad`` accumulation,
torch's ``std`` for ZiCo, the weights' gradients in the Jacobian pass). Not imported by nasbook; do not edit.

Its original docstring follows.

The zero-cost proxies on one network and one minibatch: the torch side of :mod:`nasbook.proxies`.

Every proxy is returned so that **higher = predicted better**, which is also how each was
published (none is negated here; ``jacov`` is published as the negated eigenvalue sum below and
kept so). Proxies that need the same pass share it: two half-batch cross-entropy passes give
``zico`` (which needs two batches) and, from their mean gradient, ``grad_norm``, ``snip`` and
``fisher``; one forward/backward of the output sum to the input gives ``jacov``, and its forward
pass ``naswot`` and ``meco``; ``synflow`` runs on a float64 copy; ``params`` and ``flops`` count.

The network is left as it was: its parameters, buffers (BatchNorm running statistics), train/eval
flags, ``requires_grad`` flags and ``.grad`` are restored (see :func:`preserved`).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

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

_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Tanh, nn.Sigmoid, nn.Hardswish, nn.Mish)


@contextlib.contextmanager
def preserved(net: nn.Module) -> Iterator[None]:
    """Run a block that may train-step, hook or flag ``net``; restore all of it afterwards."""
    state = {k: v.detach().clone() for k, v in net.state_dict(keep_vars=True).items()}
    modes = {m: m.training for m in net.modules()}
    flags = {p: (p.requires_grad, p.grad) for p in net.parameters()}
    try:
        yield
    finally:
        with torch.no_grad():
            for k, v in net.state_dict(keep_vars=True).items():
                v.copy_(state[k])
        for m, mode in modes.items():
            m.training = mode
        for p, (req, grad) in flags.items():
            p.requires_grad_(req)
            p.grad = grad


def _weighted(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, _WEIGHTED)]


def _weight(m: nn.Module) -> torch.Tensor:
    w = m.weight
    assert isinstance(w, torch.Tensor)
    return w


# -- two half-batch cross-entropy passes: grad_norm, snip, fisher, zico ------------------------------
def _halves_pass(net: nn.Module, x: torch.Tensor, y: torch.Tensor, want: set[str]) -> dict[str, float]:
    """ZiCo needs the gradients of two batches; the others take their mean (the gradient of the
    batch's mean loss, BatchNorm statistics per half), so one scheme serves all four at the cost
    of one full pass, and a proxy's value does not depend on which others were asked for."""
    layers = _weighted(net)
    acts: list[torch.Tensor] = []
    fisher_total = 0.0
    keep_acts = "fisher" in want

    def keep(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        if out.requires_grad:
            out.retain_grad()
            acts.append(out)

    handles = [m.register_forward_hook(keep) for m in layers] if keep_acts else []
    halves = [torch.as_tensor(idx) for idx in np.array_split(np.arange(x.shape[0]), 2) if len(idx)]
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    try:
        for idx in halves:
            acts.clear()
            net.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            with torch.no_grad():
                for i, m in enumerate(layers):
                    grad = _weight(m).grad
                    if grad is not None:
                        grads[i].append(grad.detach().clone())
                for a in acts:
                    if a.grad is not None:
                        prod = a * a.grad
                        per_channel = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                        fisher_total += float((0.5 * per_channel.pow(2)).sum()) / x.shape[0]
    finally:
        for h in handles:
            h.remove()
        acts.clear()
    out: dict[str, float] = {}
    with torch.no_grad():
        mean_grads = [(_weight(m), torch.stack(g).mean(0)) for m, g in zip(layers, grads) if g]
        if "grad_norm" in want:
            out["grad_norm"] = sum(float(g.norm(2)) for _, g in mean_grads)
        if "snip" in want:
            out["snip"] = sum(float((w * g).abs().sum()) for w, g in mean_grads)
        if "fisher" in want:
            out["fisher"] = fisher_total
        if "zico" in want:
            total = 0.0
            for gs in grads:
                if len(gs) < 2:
                    continue
                g = torch.stack([t.reshape(-1).double() for t in gs])
                std, mean_abs = g.std(0, unbiased=False), g.abs().mean(0)
                nz = std > 0
                s_ = float((mean_abs[nz] / std[nz]).sum())
                if s_ > 0:
                    total += math.log(s_)
            out["zico"] = total
    return out


# -- one input-Jacobian pass: jacov; its forward: naswot, meco ----------------------------------------
def _min_corr_eig(rows: torch.Tensor) -> float:
    """Smallest eigenvalue of the Pearson correlation of ``rows`` (NaN rows/cols zeroed), or NaN."""
    if rows.shape[0] < 2 or rows.shape[1] < 2:
        return math.nan
    corr = torch.nan_to_num(torch.corrcoef(rows.double()), nan=0.0, posinf=0.0, neginf=0.0)
    return float(torch.linalg.eigvalsh(corr)[0])


def _jacobian_pass(net: nn.Module, x: torch.Tensor, want: set[str]) -> dict[str, float]:
    codes: list[torch.Tensor] = []
    meco: list[float] = []
    handles = []
    if "naswot" in want:
        def code(_m: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            codes.append((inputs[0].detach().reshape(inputs[0].shape[0], -1) > 0).double())

        handles += [m.register_forward_pre_hook(code) for m in net.modules() if isinstance(m, _ACTIVATIONS)]
    if "meco" in want:
        def corr(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
            fea = out.detach()
            rows = fea[0].reshape(fea.shape[1], -1) if fea.dim() > 2 else fea.reshape(fea.shape[0], -1)
            meco.append(_min_corr_eig(rows))

        handles += [m.register_forward_hook(corr) for m in _weighted(net)]
    xg = x.detach().clone().requires_grad_("jacov" in want)
    try:
        out_ = net(xg)
        if "jacov" in want:
            out_.sum().backward()
    finally:
        for h in handles:
            h.remove()
    res: dict[str, float] = {}
    if "jacov" in want:
        assert xg.grad is not None
        jac = xg.grad.reshape(x.shape[0], -1).double()
        corr_ = torch.nan_to_num(torch.corrcoef(jac), nan=0.0)
        v = torch.linalg.eigvalsh(corr_)
        k = 1e-5
        res["jacov"] = float(-torch.sum(torch.log(v.clamp_min(0) + k) + 1.0 / (v.clamp_min(0) + k)))
    if "naswot" in want:
        n = x.shape[0]
        kmat = torch.zeros(n, n, dtype=torch.float64)
        for c in codes:
            kmat += c @ c.T + (1 - c) @ (1 - c).T
        sign, logdet = torch.linalg.slogdet(kmat)
        res["naswot"] = float(logdet) if float(sign) > 0 else -math.inf
    if "meco" in want:
        vals = [v for v in meco if math.isfinite(v)]
        res["meco"] = float(sum(vals)) if vals else math.nan
    return res


# -- synflow: |weights|, float64, BatchNorm as identity, all-ones input -------------------------------
def _synflow(net: nn.Module, x: torch.Tensor) -> float:
    twin = copy.deepcopy(net).double().eval()  # a copy: the caller's network keeps its dtype and weights
    with torch.no_grad():
        for m in twin.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                if m.running_mean is not None:
                    m.running_mean.zero_()
                    m.running_var.fill_(1.0)  # type: ignore[union-attr]
                    m.eps = 0.0
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
        for p in twin.parameters():
            p.abs_()
    twin.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64)
    twin(ones).sum().backward()
    with torch.no_grad():
        return float(sum((p * p.grad).abs().sum() for p in twin.parameters() if p.grad is not None))


def count_flops(net: nn.Module, x: torch.Tensor) -> float:
    """Forward FLOPs of one sample of ``x``, counted as ``torch.utils.flop_counter`` counts them
    (convolutions and matrix products, a multiply-add is 2; pooling, normalisation and activations
    0) but from forward hooks on the conv/linear layers, ten times faster on small networks."""
    total = 0.0

    def hook(m: nn.Module, _i: object, out: torch.Tensor) -> None:
        nonlocal total
        w = _weight(m)
        if isinstance(m, nn.Linear):
            total += 2.0 * out.numel() * w.shape[1]
        else:
            total += 2.0 * out.numel() * math.prod(w.shape[1:])

    handles = [m.register_forward_hook(hook) for m in _weighted(net)]
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(x[:1])
    finally:
        net.train(was)
        for h in handles:
            h.remove()
    return total


def score_network(net: nn.Module, x: torch.Tensor, y: torch.Tensor, names: Sequence[str],
                  timer: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """Every proxy in ``names`` of ``net`` on the batch ``(x, y)``, sharing passes; ``net`` is restored.

    The gradient proxies run in train mode (BatchNorm on batch statistics, dropout active and drawn
    from torch's generator: seed it for repeatable scores), as their papers do.
    """
    import time

    want = set(names)
    out: dict[str, float] = {}

    def timed(label: str, fn: Callable[[], dict[str, float]]) -> None:
        t0 = time.perf_counter()
        out.update(fn())
        if timer is not None:
            timer(label, time.perf_counter() - t0)

    with preserved(net):
        net.train()
        for p in net.parameters():
            p.requires_grad_(True)
        if want & {"grad_norm", "snip", "fisher", "zico"}:
            timed("halves", lambda: _halves_pass(net, x, y, want))
        if want & {"jacov", "naswot", "meco"}:
            timed("jacobian", lambda: _jacobian_pass(net, x, want))
    if "synflow" in want:
        timed("synflow", lambda: {"synflow": _synflow(net, x)})
    if "params" in want:
        out["params"] = float(sum(p.numel() for p in net.parameters() if p.requires_grad))
    if "flops" in want:
        timed("flops", lambda: {"flops": count_flops(net, x)})
    return {n: out[n] for n in names}
