"""Probe-only candidate members for Predictor() round 3 (imported by predictors_probe.py)."""
from __future__ import annotations

import warnings

import numpy as np

from nasbook.predictors._models import GaussianProcess, _scaled


def _columns_kernel():
    from sklearn.gaussian_process.kernels import Exponentiation

    class Columns(Exponentiation):
        """A kernel on a subset of the columns (exponent 1)."""

        def __init__(self, kernel, cols):
            self.kernel = kernel
            self.cols = cols
            self.exponent = 1.0

        def get_params(self, deep=True):
            params = {"kernel": self.kernel, "cols": self.cols}
            if deep:
                params.update({"kernel__" + k: v for k, v in self.kernel.get_params().items()})
            return params

        def __call__(self, X, Y=None, eval_gradient=False):
            c = self.cols
            return self.kernel(X[:, c], None if Y is None else Y[:, c], eval_gradient=eval_gradient)

        def diag(self, X):
            return self.kernel.diag(X[:, self.cols])

        def __repr__(self):
            return f"Cols[{len(self.cols)}]({self.kernel!r})"

    return Columns


class GPX(GaussianProcess):
    """GP variants: ard (one length scale per column), blocks (sum of one Matern per column block)."""

    def __init__(self, nu=2.5, ard=False, blocks=None, extra=None, seed=None):
        super().__init__(nu=nu, seed=seed)
        self.ard = ard
        self.blocks = blocks
        self.extra = extra  # None, "linear" (+ a linear kernel), "poly2" (only a quadratic kernel)

    def _fit(self, X, z):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

        Xs, self._center, self._scale = _scaled(X)

        def base(d):
            ls = np.full(d, np.sqrt(d)) if self.ard else np.sqrt(d)
            if self.nu == float("inf"):
                return RBF(ls, (1e-2, 1e4))
            return Matern(ls, (1e-2, 1e4), nu=self.nu)

        if self.blocks:
            Columns = _columns_kernel()
            kernel = None
            for cols in self.blocks:
                k = ConstantKernel(1.0 / len(self.blocks), (1e-3, 1e2)) * Columns(base(len(cols)), np.asarray(cols))
                kernel = k if kernel is None else kernel + k
            kernel = kernel + WhiteKernel(0.1, (1e-6, 1e1))
        elif self.extra == "poly2":
            from sklearn.gaussian_process.kernels import DotProduct

            d = Xs.shape[1]
            kernel = ConstantKernel(1.0 / d**2, (1e-8, 1e2)) * DotProduct(1.0, (1e-3, 1e3)) ** 2 + WhiteKernel(0.1, (1e-6, 1e1))
        else:
            kernel = ConstantKernel(1.0, (1e-3, 1e2)) * base(Xs.shape[1]) + WhiteKernel(0.1, (1e-6, 1e1))
            if self.extra == "linear":
                from sklearn.gaussian_process.kernels import DotProduct

                d = Xs.shape[1]
                kernel = kernel + ConstantKernel(0.1 / d, (1e-8, 1e1)) * DotProduct(1.0, "fixed")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = GaussianProcessRegressor(kernel, random_state=self.seed).fit(Xs, z)
