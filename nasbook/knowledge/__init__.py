"""The knowledge base: every trial of every search, by task and space (:class:`KnowledgeBase`).

It lives in the same SQLAlchemy store the search loop commits to (a SQLite file by default, any
database URL for a team): every search created there is catalogued by its task (a stable key,
:meth:`KnowledgeBase.task_key`) and space. ``Search(..., kb=kb)`` records into it; ``ingest``
bulk-loads trials of runs made elsewhere; ``export``/``import_parquet`` share it as Parquet.

Similarity works on its records: architecture similarity (a FAISS index over each space's
encodings, :class:`ArchIndex`, :func:`similar_archs`) and task similarity (meta-features plus
landmark architectures, :func:`similar_tasks`, :func:`cluster_tasks`). Those functions take
``kb.trials()`` / ``kb.tasks`` DataFrames; importing this package imports neither faiss nor pandas.

What past searches know, for new ones: :func:`select_warm_start` (the architectures to try first on
a new task, aggregated over past tasks weighted by similarity and diversified, each with its
provenance) and :class:`TransferPrior` (a prior score for every architecture from past tasks'
surrogates, for :class:`nasbook.predictors.PriorPredictor` and ``strategies.BO(prior=...)``), and
:func:`select_landmarks` / :meth:`TransferPrior.landmarks` (the architectures to measure first on a
new task so that such a predictor learns most from them: k-means over what the past tasks predict).

:func:`clear_cache` removes the ``kb.similar`` summaries saved for server databases in this user's cache folder
(bounded anyway by ``set_options(cache_max_bytes=...)``).
"""

from nasbook.knowledge._cache_prune import clear_cache
from nasbook.knowledge._fidelity import top_fidelity
from nasbook.knowledge._index import EXACT_MAX, ArchIndex, StaleIndexError
from nasbook.knowledge._kb import ALL_STATES, KnowledgeBase
from nasbook.knowledge._landmarks import select_landmarks
from nasbook.knowledge._meta import meta_vector, nbg_meta_features, task_meta_features
from nasbook.knowledge._plots import _neighbourhood_info, _task_map_info, plot_neighbourhood, plot_task_map
from nasbook.knowledge._similar import similar_archs, sync_index, task_quantiles
from nasbook.knowledge._tasksim import (
    cluster_tasks,
    landmark_table,
    pick_probes,
    similar_tasks,
    task_distances,
)
from nasbook.knowledge._warm import REQUIRED_COLUMNS, NoPastTrialsError, TransferPrior, past_trials, select_warm_start

__all__ = [
    "ALL_STATES", "EXACT_MAX", "REQUIRED_COLUMNS", "ArchIndex", "KnowledgeBase", "NoPastTrialsError", "StaleIndexError", "TransferPrior", "_neighbourhood_info", "_task_map_info",
    "clear_cache", "cluster_tasks", "landmark_table", "meta_vector", "nbg_meta_features", "past_trials", "pick_probes", "plot_neighbourhood",
    "plot_task_map", "select_landmarks", "select_warm_start", "similar_archs", "similar_tasks", "sync_index", "task_distances", "task_meta_features",
    "task_quantiles", "top_fidelity",
]
