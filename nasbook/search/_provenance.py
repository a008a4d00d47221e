"""Where a search was created: Python, platform and the versions of the packages its trials ran on.

Stored once in the search's configuration (``config["environment"]``, a JSON column: no schema
change) when the search is created, kept as it is when the search is loaded and extended, and
written into ``Search.to_xarray().attrs["environment"]`` (as JSON text, which a netCDF attribute
can hold). Versions come from the installed distributions' metadata, so nothing is imported.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from nasbook._version import __version__

#: the distributions whose versions decide what a search computes: the loop, the predictors and
#: strategies, and training (torch, Lightning) on the workers
PACKAGES = ("numpy", "scipy", "pandas", "xarray", "scikit-learn", "torch", "lightning", "optuna", "dask",
            "distributed", "sqlalchemy", "nas-bench-graph", "faiss-cpu", "mnist1d")


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    import importlib.metadata  # here, not at import: `import nasbook` stays light
    import platform

    packages = {"nasbook": __version__}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # an optional one (optuna), or a build of another name
            continue
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": packages}


def environment() -> dict[str, Any]:
    """This process's environment, as stored with a search it creates (a fresh copy each call).

    Returns
    -------
    dict
        ``{"python": "3.11.9", "platform": "Linux-...", "packages": {"nasbook": ..., "torch": ..., ...}}``:
        the installed packages of :data:`PACKAGES`, the ones not installed left out.
    """
    return copy.deepcopy(_environment())
