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


# --- round 5: the unlabeled space and per-fit selection -------------------------------------------------
# Members with ``needs_pool = True`` get, from predictors_probe.py, ``pool``: the same feature view of
# every architecture of the table (26,206 on NAS-Bench-Graph; no scores), and ``view_cols``: for the
# members that read the full graf matrix, the column indices of named views.


def _gp_fit(Xs, z, nu, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    d = max(1, Xs.shape[1])
    kernel = ConstantKernel(1.0, (1e-3, 1e2)) * Matern(np.sqrt(d), (1e-2, 1e4), nu=nu) + WhiteKernel(0.1, (1e-6, 1e1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianProcessRegressor(kernel, random_state=seed).fit(Xs, z)


_POOL_CACHE: dict = {}


class PopGP(GaussianProcess):
    """GP whose columns are standardised with the whole space's mean and sd (not the 100 training
    architectures'): a rare column seen 2 times in 100 gets its population scale, not a noisy one;
    optionally projected on the space's top principal components (``k``; ``whiten``): a linear
    embedding learned from the unlabeled architectures (the linear analogue of arch2vec)."""

    needs_pool = True

    def __init__(self, k=None, whiten=False, seed=None):
        super().__init__(seed=seed)
        self.k = k
        self.whiten = whiten

    def _transform(self, X):
        Xs = (X - self._pc) / self._ps
        if self.k:
            Xs = Xs @ self._V
        return Xs

    def _fit(self, X, z):
        P = self.pool
        key = (id(P), P.shape)
        if key not in _POOL_CACHE:  # the pool's statistics and SVD, once per (dataset, seed, view)
            _POOL_CACHE.clear()
            pc = P.mean(axis=0)
            sd = P.std(axis=0)
            ps = np.where(sd > 1e-12, sd, 1.0)
            _, s, vt = np.linalg.svd((P - pc) / ps, full_matrices=False)
            _POOL_CACHE[key] = (pc, ps, s, vt)
        self._pc, self._ps, s, vt = _POOL_CACHE[key]
        if self.k:
            self._V = vt[: self.k].T
            if self.whiten:
                self._V = self._V / (s[: self.k] / np.sqrt(len(P)))
        self.model_ = _gp_fit(self._transform(X), z, self.nu, self.seed)

    def _predict(self, X):
        return self.model_.predict(self._transform(X), return_std=True)


class EvidenceGP(GaussianProcess):
    """Per-fit choice of the GP's feature view by the log marginal likelihood (Bayesian model
    selection on the training set only): one GP per candidate view (column index sets of the graf
    matrix, ``views``), the one with the highest evidence predicts."""

    needs_pool = True  # for view_cols

    def __init__(self, views=("graf", "graf_nolink", "graf_nolevel"), seed=None):
        super().__init__(seed=seed)
        self.views = views

    def _fit(self, X, z):
        from nasbook.predictors._models import _scaled

        best = None
        for v in self.views:
            cols = self.view_cols[v]
            Xs, c, s = _scaled(X[:, cols])
            m = _gp_fit(Xs, z, self.nu, self.seed)
            lml = m.log_marginal_likelihood_value_
            if best is None or lml > best[0]:
                best = (lml, m, cols, c, s, v)
        _, self.model_, self._cols, self._c, self._s, self.chosen_ = best

    def _predict(self, X):
        return self.model_.predict((X[:, self._cols] - self._c) / self._s, return_std=True)


class SelfTrainedET(GaussianProcess):
    """Extra trees trained on the labeled architectures plus ``m`` unlabeled ones drawn from the
    space, pseudo-labelled by a teacher (the mean of the GP on the graf view without level_count /
    link_pattern and the GP on the one-hot adjacency, both fitted on the labeled ones): co-training,
    the GPs' smooth fit carried into the trees where there are no labels. Reads the "both" view
    (graf columns, then adjacency); the trees see the graf columns."""

    needs_pool = True  # pool: "both" of every architecture; view_cols

    def __init__(self, m=300, seed=None):
        super().__init__(seed=seed)
        self.m = m

    def _fit(self, X, z):
        from nasbook.predictors._models import ExtraTrees

        cols, ng = self.view_cols["graf_nolink"], self.view_cols["n_graf"]
        teachers = []
        for Xv, c in ((X[:, cols], cols), (X[:, ng:], np.arange(ng, X.shape[1]))):
            g = GaussianProcess(seed=self.seed)
            g._validate_params()
            g._fit(Xv, z)
            teachers.append((g, c))
        pick = np.random.default_rng(self.seed).choice(len(self.pool), self.m, replace=False)
        P = self.pool[pick]
        zp = np.mean([g._predict(P[:, c])[0] for g, c in teachers], axis=0)
        self.et_ = ExtraTrees(seed=self.seed)
        self.et_._validate_params()
        self.et_._fit(np.vstack([X[:, :ng], P[:, :ng]]), np.concatenate([z, zp]))

    def _predict(self, X):
        return self.et_._predict(X[:, : self.view_cols["n_graf"]])


class LooGP(GaussianProcess):
    """GP whose kernel is chosen by leave-one-out cross-validation instead of the marginal likelihood
    alone (Sundararajan & Keerthi 2001: LOO predictive probability is more robust when the model is
    misspecified): the maximum-likelihood kernel, then its length scale times each of ``factors``
    (amplitude and noise re-fitted for each), and the one with the highest closed-form LOO log
    predictive density (``crit="lpd"``) or LOO Kendall tau (``crit="tau"``) predicts."""

    def __init__(self, factors=(0.5, 0.71, 1.0, 1.41, 2.0), crit="lpd", seed=None):
        super().__init__(seed=seed)
        self.factors = factors
        self.crit = crit

    def _fit(self, X, z):
        from scipy import stats
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        from nasbook.predictors._models import _scaled

        Xs, self._center, self._scale = _scaled(X)
        base = _gp_fit(Xs, z, self.nu, self.seed)
        ls = base.kernel_.k1.k2.length_scale
        best = None
        for f in self.factors:
            if f == 1.0:
                m = base
            else:
                kernel = (ConstantKernel(1.0, (1e-3, 1e2)) * Matern(ls * f, "fixed", nu=self.nu)
                          + WhiteKernel(0.1, (1e-6, 1e1)))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    m = GaussianProcessRegressor(kernel, random_state=self.seed).fit(Xs, z)
            K = m.kernel_(Xs)
            Ki = np.linalg.inv(K + 1e-10 * np.eye(len(z)))
            a = Ki @ z
            var = 1.0 / np.diag(Ki)
            mu = z - a * var
            if self.crit == "tau":
                score = stats.kendalltau(z, mu).statistic
            else:
                score = float(np.mean(-0.5 * np.log(2 * np.pi * var) - 0.5 * (z - mu) ** 2 / var))
            if best is None or score > best[0]:
                best = (score, m, f)
        _, self.model_, self.chosen_ = best
