"""What past searches know: warm starts and transfer priors from the trials of earlier searches.

- :func:`select_warm_start`: the architectures to try first on a new task, aggregated over past
  tasks (weighted by similarity) and diversified, each with its provenance.
- :class:`TransferPrior`: a prior score for every architecture from past tasks' surrogates, for
  :class:`nasbook.predictors.PriorPredictor` and ``strategies.BO(prior=...)``.
"""

from nasbook.knowledge._warm import REQUIRED_COLUMNS, TransferPrior, past_trials, select_warm_start, task_quantiles

__all__ = ["REQUIRED_COLUMNS", "TransferPrior", "past_trials", "select_warm_start", "task_quantiles"]
