"""The thread limit of a predictor's fit and predictions: :func:`_one_thread`."""

from __future__ import annotations

import sys
from typing import Any

#: the threadpoolctl controller of the libraries loaded, and ``len(sys.modules)`` when it was built
_controller: tuple[Any, int] | None = None


def _one_thread() -> Any:
    """BLAS and OpenMP limited to one thread while a model fits or predicts.

    Surrogates fit small problems (tens to thousands of rows), where threads cost more than they
    save, and on a busy machine (a benchmark, a dask worker beside the notebook) far more:
    measured on 2 shared cores, a Gaussian process on 100 architectures took 3.2 s with two BLAS
    threads against 0.07 s with one, quantile boosting 63 s against 3.7 s. Parallelism belongs to
    the executor, one trial per core.

    threadpoolctl limits only the libraries loaded when its controller is built, so scikit-learn's
    models (and with them its OpenMP runtime) are imported first. Building the controller scans
    every loaded shared library (~8 ms; BO limits three times per ask), so it is kept and rebuilt
    only when a module was imported since (a new native library comes with an import).
    """
    global _controller
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime the limit must see
    import sklearn.gaussian_process  # noqa: F401

    if _controller is None or _controller[1] != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        _controller = (ThreadpoolController(), len(sys.modules))
    return _controller[0].limit(limits=1)
