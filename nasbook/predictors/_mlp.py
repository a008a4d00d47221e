"""A deep ensemble of small MLPs in torch (BANANAS' surrogate), trained as one batched model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, check_int
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._models import _scaled


class MLPEnsemble(BasePredictor):
    """An ensemble of ``n_members`` small MLPs with different initialisations (a deep ensemble,
    as in BANANAS, White et al. 2021); the spread over members is the uncertainty.

    All members train at once as one batched network (``torch.bmm``), full-batch with Adam and
    weight decay, on standardised features; a fit at n = 1,000 takes well under a second on a CPU.

    Parameters
    ----------
    n_members : int
        Networks in the ensemble. Default 5.
    hidden : int
        Units of each of the two hidden layers. Default 64.
    epochs : int
        Full-batch Adam steps. Default 300.
    lr, weight_decay : float
        Adam's step size (default 1e-2) and L2 penalty (default 1e-3).
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "mlp"

    def __init__(self, n_members: int = 5, hidden: int = 64, epochs: int = 300, lr: float = 1e-2,
                 weight_decay: float = 1e-3, features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.n_members = n_members
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay

    def _validate_params(self) -> None:
        super()._validate_params()
        self.n_members = check_int("MLPEnsemble", "n_members", self.n_members, minimum=2)
        self.hidden = check_int("MLPEnsemble", "hidden", self.hidden, minimum=1)
        self.epochs = check_int("MLPEnsemble", "epochs", self.epochs, minimum=1)
        for name in ("lr", "weight_decay"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0 or (name == "weight_decay" and v == 0)):
                raise InvalidParameterError(f"MLPEnsemble({name}=...) must be a positive number; got {v!r}.")

    def _net(self, d: int) -> Any:
        import torch

        k, h = self.n_members, self.hidden
        gen = torch.Generator().manual_seed(self.seed if self.seed is not None else int(np.random.default_rng().integers(2**31)))

        def layer(n_in: int, n_out: int) -> tuple[Any, Any]:
            bound = 1.0 / np.sqrt(n_in)
            w = (torch.rand(k, n_in, n_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(k, 1, n_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            return w.requires_grad_(), b.requires_grad_()

        return [*layer(d, h), *layer(h, h), *layer(h, 1)]

    @staticmethod
    def _forward(params: list[Any], x: Any) -> Any:
        import torch

        w1, b1, w2, b2, w3, b3 = params
        a = torch.relu(torch.baddbmm(b1, x, w1))
        a = torch.relu(torch.baddbmm(b2, a, w2))
        return torch.baddbmm(b3, a, w3).squeeze(-1)

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        import torch

        Xs, self._center, self._scale = _scaled(X)
        x = torch.as_tensor(Xs, dtype=torch.float64).expand(self.n_members, *Xs.shape)
        t = torch.as_tensor(z, dtype=torch.float64).expand(self.n_members, len(z))
        params = self._net(Xs.shape[1])
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = ((self._forward(params, x) - t) ** 2).mean(dim=1).sum()
            loss.backward()
            opt.step()
        self.params_ = [p.detach() for p in params]

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        Xs, _, _ = _scaled(X, self._center, self._scale)
        with torch.no_grad():
            x = torch.as_tensor(Xs, dtype=torch.float64).expand(self.n_members, *Xs.shape)
            out = self._forward(self.params_, x).numpy()
        return out.mean(axis=0), out.std(axis=0)
