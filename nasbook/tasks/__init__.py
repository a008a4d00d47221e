"""Tasks: what trials are evaluated on. ``NasBenchGraph`` looks results up in a benchmark table;
``TrainingTask`` trains with Lightning on any ``LightningDataModule``; ``Digits`` and
``BreastCancer`` bundle scikit-learn's offline datasets, ``MNIST1D`` the generated MNIST-1D."""

from nasbook.tasks._base import Decision, Reporter, Result, Task, stored_class
from nasbook.tasks._bundled import MNIST1D, BreastCancer, Digits
from nasbook.tasks._mnist1d_table import MNIST1DTable
from nasbook.tasks._nbg import NBG_DATASETS, NasBenchGraph
from nasbook.tasks._registry import register, task_class, unregister
from nasbook.tasks._run_params import constructor_params, split_config
from nasbook.tasks._table import CurveTable, CurveTableTask, DigitsTable, load_curve_table
from nasbook.tasks._training import TrainingTask

__all__ = [
    "MNIST1D", "MNIST1DTable", "NBG_DATASETS", "BreastCancer", "CurveTable", "CurveTableTask", "Decision", "Digits", "DigitsTable", "NasBenchGraph",
    "Reporter", "Result", "Task", "TrainingTask", "constructor_params", "load_curve_table", "register", "split_config",
    "stored_class", "task_class", "unregister",
]
