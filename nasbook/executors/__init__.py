"""Executors: where trials run. ``LocalExecutor`` (in-process), ``DaskExecutor`` (a CPU
``LocalCluster``, any ``distributed.Client``, cluster object or scheduler address), ``DaskCudaExecutor`` (one
worker per GPU). dask is imported only when a dask executor starts."""

from nasbook.executors._base import BaseExecutor, ExecutorEvent, LocalExecutor, Outcome, evaluate_trial
from nasbook.executors._dask import DaskExecutor
from nasbook.executors._resolve import DaskCudaExecutor, resolve_executor

__all__ = [
    "BaseExecutor", "DaskCudaExecutor", "DaskExecutor", "ExecutorEvent", "LocalExecutor", "Outcome",
    "evaluate_trial", "resolve_executor",
]
