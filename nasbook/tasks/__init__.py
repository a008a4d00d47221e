"""Tasks: what trials are evaluated on (a benchmark table now, Lightning training later)."""

from nasbook.tasks._base import Decision, Reporter, Result, Task
from nasbook.tasks._nbg import NBG_DATASETS, NasBenchGraph

__all__ = ["NBG_DATASETS", "Decision", "NasBenchGraph", "Reporter", "Result", "Task"]
