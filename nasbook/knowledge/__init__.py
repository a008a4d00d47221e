"""The knowledge base's similarity half: architecture similarity (a FAISS index over each space's
encodings) and task similarity (meta-features plus landmark architectures).

Pure functions over ``kb.trials()`` / ``kb.tasks`` DataFrames: they know no store. Importing this
package imports neither faiss nor pandas; they load on first use.
"""

from nasbook.knowledge._index import EXACT_MAX, ArchIndex, StaleIndexError
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

__all__ = [
    "EXACT_MAX", "ArchIndex", "StaleIndexError", "_neighbourhood_info", "_task_map_info", "cluster_tasks",
    "landmark_table", "meta_vector", "nbg_meta_features", "pick_probes", "plot_neighbourhood", "plot_task_map",
    "similar_archs", "similar_tasks", "sync_index", "task_distances", "task_meta_features", "task_quantiles",
]
