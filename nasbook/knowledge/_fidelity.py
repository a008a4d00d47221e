"""The knowledge base's one rule for trials of different fidelities (epochs trained).

A multi-fidelity search (ASHA, Hyperband, successive halving, curve stopping, growth) records a trial
per rung: most architectures only have a value after an epoch or two, and a promoted architecture
appears once per rung with a different value each time. Those low-rung values are not final
qualities, and an architecture must not count twice.

**The rule** (:func:`top_fidelity`): within each search, only the complete trials with a finite value
at that search's most epochs count (and trials with no ``epochs`` recorded, which are never
compared by epochs). So each search contributes the values it trained furthest: a promoted
architecture by its top-rung value, an architecture stopped at a low rung not at all. The rule is
the one ``Predictor.fit_search`` applies. A single-fidelity search (every trial at the same epochs,
or none recorded, as a plain search and a tabular lookup) keeps every trial: nothing changes for it.

Every quality aggregate of the knowledge base goes through it: warm starts
(:func:`~nasbook.knowledge.select_warm_start`, ``kb.warm_start``), the transfer prior
(:class:`~nasbook.knowledge.TransferPrior`), per-task quantiles
(:func:`~nasbook.knowledge.task_quantiles`: ``kb.similar``, task similarity, probes) and the best
per task and per search (``kb.tasks``, ``kb.searches``, each with the epochs of that best; the repr), and
a search's own best (``Search.best``, ``nasbook list``, ``Storage.list_searches``:
:class:`nasbook.storage.TopFidelityBest`).
``kb.trials()`` is the raw record and keeps every trial.

Why not "each architecture at the most epochs it reached" instead: that keeps rung-1 values of the
architectures stopped early and ranks them against top-rung values of others, so an architecture's
rank would mostly say how far it was trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["top_fidelity"]


def top_fidelity(trials: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``trials`` that count for quality (see the module docstring).

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials as :meth:`KnowledgeBase.trials <nasbook.knowledge.KnowledgeBase.trials>` gives them;
        the columns read are ``epochs``, ``value``, ``state`` and ``search`` (each optional).

    Returns
    -------
    pandas.DataFrame
        Per ``search`` (the whole table when there is no ``search`` column), the rows at the most
        ``epochs`` among its complete trials with a finite ``value``, and the rows with no
        ``epochs``. Without an ``epochs`` column, or when nothing is dropped, ``trials`` itself.

    Examples
    --------
    >>> import pandas as pd
    >>> asha = pd.DataFrame({"search": "s", "state": "complete", "epochs": [1, 1, 3, 9, 9], "value": [.5, .6, .7, .8, .9]})
    >>> top_fidelity(asha)["value"].tolist()
    [0.8, 0.9]
    """
    import pandas as pd

    if "epochs" not in trials.columns or trials.empty:
        return trials
    epochs = pd.to_numeric(trials["epochs"], errors="coerce").astype("float64").to_numpy()
    if np.isnan(epochs).all():
        return trials
    values = pd.to_numeric(trials["value"], errors="coerce").astype("float64").to_numpy() \
        if "value" in trials.columns else np.zeros(len(trials))
    ok = np.isfinite(values) & ~np.isnan(epochs)
    if "state" in trials.columns:
        ok &= trials["state"].astype(str).to_numpy() == "complete"
    key = trials["search"].astype(str).to_numpy() if "search" in trials.columns else np.zeros(len(trials), dtype=int)
    top = pd.Series(np.where(ok, epochs, np.nan)).groupby(key).transform("max").to_numpy()
    keep = np.isnan(epochs) | (epochs == top)
    return trials if keep.all() else trials[keep]
