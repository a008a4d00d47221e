"""Meta-features of a task's data, and their numeric form for task similarity.

``TrainingTask.meta_features()`` measures its data (sizes, classes, input shape, class balance).
NAS-Bench-Graph's wheel ships no dataset information (only the result tables), so the graph
datasets' sizes are written here from the published dataset statistics (the tables of PyTorch
Geometric's documentation: Planetoid, Coauthor, Amazon; OGB for arxiv and proteins; edges are
counted in both directions as stored there). Their split sizes and class balance are not known
offline, so those keys are None: similarity then uses the keys both tasks have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nasbook._errors import InvalidParameterError

#: (nodes, edges, node features, classes) of NAS-Bench-Graph's nine datasets
_NBG_STATS: dict[str, tuple[int, int, int, int]] = {
    "cora": (2_708, 10_556, 1_433, 7),
    "citeseer": (3_327, 9_104, 3_703, 6),
    "pubmed": (19_717, 88_648, 500, 3),
    "cs": (18_333, 163_788, 6_805, 15),
    "physics": (34_493, 495_924, 8_415, 5),
    "photo": (7_650, 238_162, 745, 8),
    "computers": (13_752, 491_722, 767, 10),
    "arxiv": (169_343, 1_166_243, 128, 40),
    # ogbn-proteins: no node features (8 edge features), 112 binary labels per node (ROC-AUC)
    "proteins": (132_534, 39_561_252, 8, 112),
}

#: counts compared on a log scale (a task with 10x the data is as far from one with 100x as ...)
LOG_KEYS = frozenset({"n_train", "n_val", "n_test", "n_classes", "n_features", "n_nodes", "n_edges", "avg_degree"})


def nbg_meta_features(dataset: str) -> dict[str, Any]:
    """Meta-features of a NAS-Bench-Graph dataset, keyed like ``TrainingTask.meta_features()``.

    Parameters
    ----------
    dataset : str
        A NAS-Bench-Graph dataset name (``"cora"``, ``"citeseer"``, ..., ``"proteins"``).

    Returns
    -------
    dict
        The published statistics (unknown ones None) plus the graph's ``n_nodes``, ``n_edges``
        and ``avg_degree``.
    """
    if dataset not in _NBG_STATS:
        raise InvalidParameterError(f"nbg_meta_features(dataset=...): unknown dataset {dataset!r}; "
                                    f"known: {sorted(_NBG_STATS)}.")
    nodes, edges, feats, classes = _NBG_STATS[dataset]
    return {
        "n_train": None, "n_val": None, "n_test": None, "n_classes": classes, "input_shape": [feats],
        "n_features": feats, "class_entropy": None, "class_ratio": None,
        "n_nodes": nodes, "n_edges": edges, "avg_degree": edges / nodes,
    }


def task_meta_features(task: Any) -> dict[str, Any]:
    """The meta-features of a task object.

    Parameters
    ----------
    task : Task
        Any task: ``task.meta_features()`` where it has them, the published statistics for a
        NAS-Bench-Graph dataset.

    Returns
    -------
    dict
        The meta-features; empty when the task has none (landmarks must then carry it).
    """
    method = getattr(task, "meta_features", None)
    if callable(method):
        return dict(method())
    dataset = getattr(task, "dataset", None)
    if type(task).__name__ == "NasBenchGraph" and isinstance(dataset, str):
        return nbg_meta_features(dataset)
    return {}


def meta_vector(meta: Mapping[str, Any] | None) -> dict[str, float]:
    """The numeric form of meta-features that is compared across tasks.

    Parameters
    ----------
    meta : Mapping or None
        Meta-features as :func:`task_meta_features` gives them.

    Returns
    -------
    dict of str to float
        Counts as ``log10(1 + x)``, ``input_shape`` as its number of dimensions (``input_dims``),
        other finite numbers as they are; None, text and NaN dropped.
    """
    out: dict[str, float] = {}
    for key, value in (meta or {}).items():
        if key == "input_shape" and isinstance(value, (list, tuple)):
            out["input_dims"] = float(len(value))
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        x = float(value)
        if not math.isfinite(x):
            continue
        out[str(key)] = math.log10(1.0 + max(x, 0.0)) if key in LOG_KEYS else x
    return out
