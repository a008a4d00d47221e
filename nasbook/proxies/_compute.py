"""``compute``: zero-cost proxies of many architectures of a space, and single-network functions."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NotBuildableError,
    check_int,
    unknown_choice,
)
from nasbook._seeding import seeded
from nasbook.proxies._zc import DESCRIPTIONS, JACOBIAN_BATCH, PROXIES, score_network
from nasbook.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import xarray as xr
    from torch import nn




def check_names(owner: str, names: object) -> list[str]:
    """Proxy names (None: all of :data:`PROXIES`), or an error naming ``names``, the allowed and the received."""
    if names is None:
        return list(PROXIES)
    items = [names] if isinstance(names, str) else names
    if not isinstance(items, Sequence) or not items:
        raise InvalidParameterTypeError(
            f"{owner}(names=...) must be a proxy name, a non-empty list of them or None (all); got {names!r:.60}."
        )
    out = []
    for n in items:
        if n not in PROXIES:
            raise unknown_choice(f"proxy for {owner}(names=...)", n, PROXIES, "Pass names=None for all of them.")
        if n not in out:
            out.append(str(n))
    return out


def check_batch(owner: str, batch: object, input_shape: Sequence[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` as float32 and int64 tensors, or an error naming ``batch`` with what was expected and received.

    Parameters
    ----------
    owner : str
        The caller's name, as errors quote it (``"proxies.score"``).
    batch : tuple
        An ``(x, y)`` pair of tensors or arrays: ``x`` of shape ``(n, *input_shape)`` with n >= 2 and
        finite values, ``y`` of ``n`` integer labels.
    input_shape : sequence of int, optional
        The sample shape ``x`` must have; None takes the batch's.

    Returns
    -------
    x : torch.Tensor
        float32, shape ``(n, *input_shape)``.
    y : torch.Tensor
        int64, shape ``(n,)``.
    """
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise InvalidParameterTypeError(
            f"{owner}: the batch must be an (x, y) pair of tensors or arrays (x: (n, *input_shape), y: (n,) integer "
            f"labels), a TrainingTask or a CurveTableTask; got {batch!r:.80} of type {type(batch).__name__}."
        )
    tensors = []
    for part, what in zip(batch, ("x must hold numbers", "y must hold integer labels")):
        try:
            tensors.append(torch.as_tensor(np.asarray(part) if not isinstance(part, torch.Tensor) else part))
        except (TypeError, ValueError, RuntimeError) as exc:  # (strings: named as the labels or inputs they are)
            raise InvalidParameterTypeError(f"{owner}: batch {what}; {' '.join(str(exc).split())[:160]}") from None
    x, y = tensors[0].float(), tensors[1]
    if x.dim() < 2 or x.shape[0] < 2:
        raise InvalidParameterError(
            f"{owner}: batch x must have shape (n, *input_shape) with n >= 2 samples; got shape {tuple(x.shape)}."
        )
    if y.dim() != 1 or y.shape[0] != x.shape[0] or y.is_floating_point() or y.is_complex():
        raise InvalidParameterError(
            f"{owner}: batch y must be {x.shape[0]} integer labels, shape ({x.shape[0]},); got shape {tuple(y.shape)} "
            f"of dtype {y.dtype}."
        )
    if input_shape is not None and tuple(x.shape[1:]) != tuple(input_shape):
        raise InvalidParameterError(
            f"{owner}: batch x has samples of shape {tuple(x.shape[1:])}, but input_shape={tuple(input_shape)} "
            "was given; pass input_shape=None to take the batch's."
        )
    if not torch.isfinite(x).all():
        raise InvalidParameterError(f"{owner}: batch x holds NaN or infinite values.")
    if y.numel() and int(y.min()) < 0:  # cross-entropy's IndexError, raw, before
        raise InvalidParameterError(f"{owner}: batch labels y must be class indices >= 0; got labels {int(y.min())}..{int(y.max())}.")
    return x, y.long()


def resolve_batch(owner: str, source: object, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, int | None]:
    """``(x, y, n_classes or None)`` from a batch, a TrainingTask (``sample_batch``) or a table (``training_task``)."""
    task: Any = source
    if callable(getattr(task, "training_task", None)):
        task = task.training_task()
    if callable(getattr(task, "sample_batch", None)):
        x, y = task.sample_batch(batch_size, seed=seed)
        n_classes = task.n_classes if task.n_classes is not None else task.data_info()["n_classes"]
        return (*check_batch(owner, (x, y)), int(n_classes))
    return (*check_batch(owner, source), None)


def _build(owner: str, space: SearchSpace, arch: Architecture, shape: tuple[int, ...], n_classes: int) -> nn.Module:
    try:
        return space.build(arch, shape, n_classes)
    except NotBuildableError as exc:
        raise NotBuildableError(
            f"{owner}(space=...) must be a space whose architectures build into networks (space.build), such as "
            f"CellSpace or ChainSpace; got {type(space).__name__}, which cannot build: {exc}"
        ) from None


def _check_space(owner: str, space: object, archs: object) -> list[Architecture]:
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"{owner}(space=...) must be a nasbook SearchSpace; got {space!r:.60} of type {type(space).__name__}.")
    if isinstance(archs, Architecture) or not isinstance(archs, Sequence) or isinstance(archs, str):
        raise InvalidParameterTypeError(f"{owner}(archs=...) must be a list of Architectures; got {archs!r:.60}.")
    out = list(archs)
    for i, a in enumerate(out):
        if not isinstance(a, Architecture):
            raise InvalidParameterTypeError(f"{owner}(archs=...) item {i} is {a!r:.60}, not an Architecture.")
        if a.space_id != space.space_id:
            raise InvalidParameterError(
                f"{owner}(archs=...) item {i} ({a.id!r}) belongs to space {a.space_id!r}, not to space=... "
                f"{type(space).__name__} {space.space_id!r}."
            )
    return out


def compute(
    space: SearchSpace,
    archs: Sequence[Architecture],
    task_or_batch: Any,
    names: str | Sequence[str] | None = None,
    seed: int = 0,
    *,
    batch_size: int = 32,
    n_classes: int | None = None,
    num_threads: int | None = 1,
    jacobian_batch: str = "halves",
) -> xr.Dataset:
    """Zero-cost proxies of untrained networks of ``space`` from one minibatch.

    Each architecture is built with ``space.build(arch, input_shape, n_classes)`` under torch seed
    ``seed`` (the same initialisation and dropout draws on every call) and scored by every proxy in
    ``names`` (see :data:`nasbook.proxies.PROXIES`); every proxy is oriented so that **higher =
    predicted better** (as each was published; ``params`` and ``flops``: bigger = better).

    Parameters
    ----------
    space : SearchSpace
        A space that builds networks (``CellSpace``, ``ChainSpace``, a ``SubsetSpace`` of one).
    archs : list of Architecture
        Architectures of ``space`` to score, one network each.
    task_or_batch : TrainingTask, CurveTableTask or (x, y)
        Where the minibatch comes from: ``task.sample_batch(batch_size, seed)`` for a training task,
        ``table.training_task().sample_batch(...)`` for a curve table, or a batch itself
        (``x``: ``(n, *input_shape)``, ``y``: ``(n,)`` integer labels, n >= 2).
    names : str, list of str or None
        Proxies to compute (None: all).
    seed : int
        Seeds the batch drawn from a task and the networks' initialisation.
    batch_size : int
        Samples drawn from a task (ignored for a batch). 32 (was 64 before round 3): the blend of
        all proxies ranks the Digits and MNIST-1D tables as well (Spearman 0.597 and 0.837 against
        0.600 and 0.848 at 64), at about two thirds of the cost (``docs/benchmarks.md``, 10p-round3).
    n_classes : int, optional
        Outputs of the networks; default: the task's, or ``max(y) + 1`` for a batch.
    num_threads : int or None
        torch intra-op threads while scoring (restored afterwards); None leaves torch's setting.
    jacobian_batch : {"halves", "full"}
        Where jacov, naswot and meco come from: ``"halves"`` (default) the two half-batch passes
        the gradient proxies use (BatchNorm statistics per half; one forward/backward fewer),
        ``"full"`` a separate full-batch pass (nasbook's definition before this option existed).

    Returns
    -------
    xarray.Dataset
        One variable per proxy over dim ``arch`` (architecture ids; ``ds.to_array("proxy")`` gives
        ``arch x proxy``), each with attrs ``description`` and ``higher_is_better=1``; coordinate
        ``ms`` (wall milliseconds per architecture: build plus every proxy); attrs ``seed``,
        ``batch_size``, ``input_shape``, ``n_classes``, ``jacobian_batch``.
    """
    import xarray as xr

    owner = "proxies.compute"
    wanted = check_names(owner, names)
    seed = check_int(owner, "seed", seed, minimum=0)  # np.int64 -> int (it lands in the Dataset's attrs)
    batch_size = check_int(owner, "batch_size", batch_size, minimum=2)
    n_classes = check_int(owner, "n_classes", n_classes, minimum=2, allow_none=True)
    check_jacobian_batch(owner, jacobian_batch)
    archs_ = _check_space(owner, space, archs)
    x, y, task_classes = resolve_batch(f"{owner}(task_or_batch=...)", task_or_batch, batch_size, seed)
    k = n_classes or task_classes or int(y.max()) + 1
    if int(y.max()) >= k or int(y.min()) < 0:
        raise InvalidParameterError(f"{owner}(task_or_batch=...): batch labels y must lie in [0, n_classes={k}); got labels {int(y.min())}..{int(y.max())}.")
    shape = tuple(int(s) for s in x.shape[1:])
    values = np.full((len(wanted), len(archs_)), np.nan)
    ms = np.zeros(len(archs_))
    with seeded(None, num_threads):
        for j, arch in enumerate(archs_):
            t0 = time.perf_counter()
            with seeded(seed):
                net = _build(owner, space, arch, shape, k)
                scores = _score_checked(owner, net, x, y, wanted, f"architecture {arch.id!r}", jacobian_batch)
            ms[j] = (time.perf_counter() - t0) * 1e3
            values[:, j] = [scores[n] for n in wanted]
    data = {n: xr.Variable("arch", values[i], {"description": DESCRIPTIONS[n], "higher_is_better": 1})
            for i, n in enumerate(wanted)}
    return xr.Dataset(
        data,
        coords={"arch": [a.id for a in archs_], "ms": ("arch", ms, {"long_name": "ms per architecture (build + proxies)"})},
        attrs={"seed": seed, "batch_size": int(x.shape[0]), "input_shape": list(shape), "n_classes": k,
               "jacobian_batch": jacobian_batch,
               "space": repr(space), "orientation": "higher = predicted better, for every proxy"},
    )


def check_jacobian_batch(owner: str, value: object) -> None:
    if value not in JACOBIAN_BATCH:
        raise unknown_choice(f"{owner}(jacobian_batch=...)", value, JACOBIAN_BATCH,
                             "'halves' shares the gradient proxies' two half-batch passes; 'full' adds a full-batch pass.")


def _score_checked(owner: str, net: nn.Module, x: torch.Tensor, y: torch.Tensor, names: Sequence[str], what: str,
                   jacobian_batch: str = "halves") -> dict[str, float]:
    try:
        return score_network(net, x, y, names, jacobian_batch=jacobian_batch)
    except IndexError as exc:  # cross-entropy: "Target 3 is out of bounds", a label past the network's outputs
        raise InvalidParameterError(
            f"{owner}: batch labels must lie in [0, the number of outputs of {what}); got labels {int(y.min())}..{int(y.max())} "
            f"({str(exc).splitlines()[0]})."
        ) from exc
    except (RuntimeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{owner}: {what} does not fit the batch: a pass on x of shape {tuple(x.shape)} failed "
            f"({str(exc).splitlines()[0]}). Give a batch whose samples have the shape the network was built for."
        ) from exc


def score(net: nn.Module, x: Any, y: Any, names: str | Sequence[str] | None = None, seed: int | None = 0,
          jacobian_batch: str = "halves") -> dict[str, float]:
    """Proxies of one network on one batch: ``{name: value}`` (higher = predicted better).

    ``net`` is left as it was (weights, BatchNorm statistics, train/eval flags, gradients). The
    batch is moved to the device of ``net``'s parameters (a network on a GPU is scored there).

    Parameters
    ----------
    net : torch.nn.Module
        The network, usually untrained.
    x : torch.Tensor or numpy.ndarray
        Inputs, shape ``(n, *input_shape)``, n >= 2.
    y : torch.Tensor or numpy.ndarray
        Integer labels, shape ``(n,)``.
    names : str or sequence of str, optional
        Proxies of :data:`PROXIES` to compute; None computes all.
    seed : int or None, default 0
        Seeds dropout during the gradient passes (None: torch's current generator).
    jacobian_batch : {"halves", "full"}, default "halves"
        Where jacov, naswot and meco come from, as in :func:`compute`: the gradient proxies' two
        half-batch passes, or an extra full-batch pass.

    Returns
    -------
    dict of str to float
        One value per name, oriented so that higher is predicted better.
    """
    if not isinstance(net, torch.nn.Module):
        raise InvalidParameterTypeError(f"proxies.score(net=...) must be a torch.nn.Module (space.build(arch, input_shape, "
                                        f"n_classes) makes one); got {net!r:.60} of type {type(net).__name__}.")
    seed = check_int("proxies.score", "seed", seed, minimum=0, allow_none=True)
    wanted = check_names("proxies.score", names)
    check_jacobian_batch("proxies.score", jacobian_batch)
    x_, y_ = check_batch("proxies.score", (x, y))
    param = next(net.parameters(), None)
    if param is not None:  # a network on a GPU: the batch goes there (its proxies' own tensors follow the batch)
        x_, y_ = x_.to(param.device), y_.to(param.device)
    with seeded(seed):
        return _score_checked("proxies.score", net, x_, y_, wanted, "the network", jacobian_batch)


def _one(name: str) -> Any:
    def fn(net: nn.Module, x: Any, y: Any, seed: int | None = 0) -> float:
        return score(net, x, y, [name], seed=seed)[name]

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The {name} proxy of ``net`` on the batch ``(x, y)`` (higher = predicted better).\n\n{DESCRIPTIONS[name]}\n\n"
                  "Parameters\n----------\nnet : torch.nn.Module\n    The network, left as it was.\n"
                  "x : torch.Tensor or numpy.ndarray\n    Inputs, shape ``(n, *input_shape)``, n >= 2.\n"
                  "y : torch.Tensor or numpy.ndarray\n    Integer labels, shape ``(n,)``.\n"
                  "seed : int or None, default 0\n    Seeds dropout during the gradient passes (None: torch's generator).\n\n"
                  f"Returns\n-------\nfloat\n    The proxy's value, as :func:`score` gives it.")
    return fn


synflow = _one("synflow")
snip = _one("snip")
grad_norm = _one("grad_norm")
fisher = _one("fisher")
jacov = _one("jacov")
naswot = _one("naswot")
zico = _one("zico")
meco = _one("meco")
