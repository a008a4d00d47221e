"""Probe-only candidate members for Predictor() round 3 (imported by predictors_probe.py)."""
from __future__ import annotations

import warnings

import numpy as np

from nasbook.predictors._models import GaussianProcess, GradientBoosting, _scaled


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


class PairwiseGBT(GaussianProcess):
    """Pairwise ranking: a boosted classifier on feature differences learns P(y_i > y_j); an
    architecture's latent score is Phi^-1 of its mean win probability against the training set."""

    def __init__(self, max_iter=100, seed=None):
        super().__init__(seed=seed)
        self.max_iter = max_iter

    def _fit(self, X, z):
        from sklearn.ensemble import HistGradientBoostingClassifier

        n = len(z)
        i, j = np.triu_indices(n, 1)
        keep = z[i] != z[j]
        i, j = i[keep], j[keep]
        D = np.vstack([X[i] - X[j], X[j] - X[i]])
        t = np.concatenate([z[i] > z[j], z[j] > z[i]]).astype(int)
        self.model_ = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=0.1, max_leaf_nodes=15,
                                                     random_state=self.seed, early_stopping=False).fit(D, t)
        self._train = X

    def _predict(self, X):
        from scipy import stats

        n = len(self._train)
        out = np.empty(len(X))
        for s in range(0, len(X), 200):
            blk = X[s:s + 200]
            D = (blk[:, None, :] - self._train[None, :, :]).reshape(-1, X.shape[1])
            p = self.model_.predict_proba(D)[:, 1].reshape(len(blk), n).mean(axis=1)
            out[s:s + 200] = stats.norm.ppf(np.clip(p, 1e-3, 1 - 1e-3))
        return out, np.full(len(X), 0.5)


class GBTMean(GradientBoosting):
    """Round 4 probe: the mean from a squared-error booster (the default's mean is the median head's,
    fitted with the pinball loss, whose gradient is only a sign); the spread from the two quantile
    heads as in GradientBoosting."""

    def _fit(self, X, z):
        from sklearn.ensemble import HistGradientBoostingRegressor

        super()._fit(X, z)
        leaf = max(2, min(20, len(z) // 10))
        self.mean_model_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=leaf, random_state=self.seed, early_stopping=False).fit(X, z)

    def _predict(self, X):
        _, std = super()._predict(X)
        return self.mean_model_.predict(X), std
