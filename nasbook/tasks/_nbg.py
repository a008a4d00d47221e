"""NAS-Bench-Graph as a task: a table look-up through the same loop as real training."""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import TrialFailed, check_type, unknown_choice
from nasbook.space import GNN_OPS, PROTEINS_OPS, Architecture, GraphSpace, SearchSpace
from nasbook.tasks._base import Reporter, Result, Task, stored_class

if TYPE_CHECKING:
    import xarray as xr

#: The nine datasets shipped in the ``nas-bench-graph`` wheel.
NBG_DATASETS: tuple[str, ...] = ("arxiv", "citeseer", "computers", "cora", "cs", "photo", "physics", "proteins", "pubmed")


class _TableUnpickler(pickle.Unpickler):
    """Unpickles NAS-Bench-Graph's tables and nothing else.

    The tables are dicts of floats and numpy scalars. Any other global (a function, a class,
    ``os.system``...) is refused, so a tampered file cannot run code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"NAS-Bench-Graph tables hold only numbers; refusing global {module}.{name}")


@dataclass(frozen=True)
class BenchTable:
    """One NAS-Bench-Graph table as columns sorted by key."""

    keys: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    latency_s: np.ndarray
    params_m: np.ndarray

    @functools.cached_property
    def valid_l(self) -> list[float]:
        return self.valid.tolist()  # type: ignore[no-any-return]

    @functools.cached_property
    def test_l(self) -> list[float]:
        return self.test.tolist()  # type: ignore[no-any-return]

    @functools.cached_property
    def latency_s_l(self) -> list[float]:
        return self.latency_s.tolist()  # type: ignore[no-any-return]

    @functools.cached_property
    def params_m_l(self) -> list[float]:
        return self.params_m.tolist()  # type: ignore[no-any-return]

    def row(self, key: int) -> int:
        """Row index of ``key``, or -1."""
        return self._index.get(key, -1)

    @functools.cached_property
    def _index(self) -> dict[int, int]:
        return {int(k): i for i, k in enumerate(self.keys)}


def load_table_bytes(data: bytes) -> BenchTable:
    """Parse a NAS-Bench-Graph ``.bench`` file's bytes through the restricted unpickler."""
    raw = _TableUnpickler(io.BytesIO(data)).load()
    if not isinstance(raw, dict):
        raise pickle.UnpicklingError(f"a NAS-Bench-Graph table is a dict; got {type(raw).__name__}")
    keys = np.array(sorted(int(k) for k in raw), dtype=np.int64)
    cols = {c: np.empty(len(keys), dtype=np.float64) for c in ("valid_perf", "perf", "latency", "para")}
    for i, k in enumerate(keys):
        rec = raw[int(k)]
        for c, arr in cols.items():
            arr[i] = float(rec[c])
    return BenchTable(keys, cols["valid_perf"], cols["perf"], cols["latency"], cols["para"])


@functools.cache
def load_table(dataset: str) -> BenchTable:
    """Load (once per process) the table of one dataset from the installed wheel."""
    try:
        files = resources.files("nas_bench_graph") / "light" / f"{dataset}.bench"
    except ModuleNotFoundError as exc:  # pragma: no cover - it is a core dependency
        raise ModuleNotFoundError("NasBenchGraph needs the nas-bench-graph package: pip install nas-bench-graph==1.4.0") from exc
    return load_table_bytes(files.read_bytes())


class NasBenchGraph(Task):
    """A NAS-Bench-Graph dataset: looking an architecture up replaces training it.

    The objective is the validation score (accuracy, or ROC-AUC for proteins) averaged over the
    benchmark's three training seeds. The test score, latency and parameter count are recorded
    on each trial (``trial.attrs``) but never shown to strategies.

    Parameters
    ----------
    dataset : str
        One of :data:`NBG_DATASETS`.

    Examples
    --------
    >>> task = NasBenchGraph("cora")
    >>> task.space.cardinality
    26206
    """

    def __init__(self, dataset: str = "cora"):
        check_type("NasBenchGraph", "dataset", dataset, str, "a dataset name (str)")
        self.dataset = str(dataset)  # np.str_('cora') (a loop over an array of names) shows and stores as 'cora'
        if dataset not in NBG_DATASETS:
            raise unknown_choice(
                "NAS-Bench-Graph dataset", dataset, NBG_DATASETS,
                "NasBenchGraph(dataset=...) takes one of the tables shipped in the nas-bench-graph wheel.",
            )
        self._space = GraphSpace(ops=PROTEINS_OPS if dataset == "proteins" else GNN_OPS)

    @property
    def metric(self) -> str:  # type: ignore[override]
        return "val_roc_auc" if self.dataset == "proteins" else "val_accuracy"

    @property
    def test_metric(self) -> str:
        """Name of the held-out score in ``attrs``: ``"test_roc_auc"`` on proteins, else ``"test_accuracy"``."""
        return "test_roc_auc" if self.dataset == "proteins" else "test_accuracy"

    mode = "max"

    @property
    def name(self) -> str:
        return f"nbg-{self.dataset}"

    @property
    def space(self) -> GraphSpace:
        return self._space

    @property
    def table(self) -> BenchTable:
        """The dataset's full table (for benchmarks and regret; strategies never see it)."""
        return load_table(self.dataset)

    def __getstate__(self) -> dict[str, Any]:
        return {"dataset": self.dataset}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["dataset"])  # type: ignore[misc]

    def evaluate(
        self,
        arch: Architecture,
        *,
        space: SearchSpace | None = None,
        fidelity: Mapping[str, Any] | None = None,
        report: Reporter | None = None,
    ) -> Result:
        if arch.__class__ is not Architecture or arch.space_id != self._space.space_id:
            self._space.validate(arch)  # raises, naming both spaces
        table = load_table(self.dataset)
        i = table.row(int(arch.id))
        if i < 0:
            raise TrialFailed(f"architecture {arch.id} is not in NAS-Bench-Graph's {self.dataset} table")
        return Result(table.valid_l[i], {}, {
            self.test_metric: table.test_l[i],
            "latency_ms": table.latency_s_l[i] * 1e3,
            "params_m": table.params_m_l[i],
        })

    def optimum(self) -> tuple[Architecture, float]:
        """The best-validation architecture in the whole table and its score.

        Returns
        -------
        arch : Architecture
            The architecture with the highest validation score.
        value : float
            That score (``metric``).
        """
        table = load_table(self.dataset)
        i = int(np.argmax(table.valid))
        return self._space._from_key(int(table.keys[i])), float(table.valid[i])

    def ground_truth(self) -> xr.Dataset:
        """Every architecture of the table, for benchmarks and predictor evaluation.

        No ``noise_ceiling``: the light tables hold only the mean over the benchmark's three training
        seeds, so seed-to-seed agreement cannot be measured.

        Returns
        -------
        xarray.Dataset
            Dims ``("arch",)`` (ids, in ``space.enumerate()`` order); variables ``value`` (validation
            score: what a search sees), ``test``, ``params`` (count), ``latency_ms``.
        """
        from nasbook.tasks._truth import nbg_ground_truth

        return nbg_ground_truth(self)

    def to_config(self) -> dict[str, Any]:
        return {"class": stored_class(type(self)), "params": {"dataset": self.dataset}, "metric": self.metric, "mode": self.mode}
