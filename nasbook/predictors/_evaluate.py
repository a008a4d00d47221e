"""How good is a predictor, and from how many trained architectures? :func:`evaluate` measures it
on a tabular task against training-set size, with baselines in the same run.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    check_int,
    class_given,
    plain_number,
    unknown_choice,
)
from nasbook.predictors import _metrics
from nasbook.predictors._base import BasePredictor
from nasbook.predictors._registry import available_predictors, get_predictor

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.space import Architecture, SearchSpace

#: what :func:`evaluate` records for each (predictor, n_train, seed)
VARIABLES: tuple[str, ...] = (
    "kendall_tau", "spearman", "top_k_overlap", "coverage_68", "coverage_95", "nll", "fit_s", "predict_s",
)
#: the baselines :func:`evaluate` adds: rank by parameter count; gradient-boosted trees on the one-hot adjacency
BASELINES: tuple[str, ...] = ("#params", "onehot-gbt")
#: the held-out architectures of ``evaluate(n_test="auto")`` where the task has room (NASLib's and GRAF's studies)
AUTO_N_TEST = 2000
_LONG_NAMES = {
    "kendall_tau": "Kendall tau", "spearman": "Spearman", "top_k_overlap": "precision@k (top-k overlap)",
    "coverage_68": "68% interval coverage", "coverage_95": "95% interval coverage", "nll": "NLL",
    "fit_s": "fit time (s)", "predict_s": "predict time (s)",
}


def _onehot_gbt() -> BasePredictor:
    from nasbook.predictors._models import GradientBoosting

    return GradientBoosting(features="adjacency", target="standard")


def _short_repr(p: BasePredictor) -> str:
    """``Class(non-default params)``: a label that tells two configurations of one model apart."""
    sig = inspect.signature(type(p).__init__)
    changed = []
    for name, value in p.get_params().items():
        default = sig.parameters[name].default
        try:
            same = bool(value == default)
        except Exception:  # noqa: BLE001 - arrays and odd objects: show them
            same = False
        if not same:
            changed.append(f"{name}={value!r}")
    return f"{type(p).__name__}({', '.join(changed)})"


def _resolve_predictors(spec: object) -> dict[str, BasePredictor]:
    """Labels and unfitted templates from a predictor, a name, or a list/dict of them."""
    from nasbook.predictors._ensemble import Predictor

    names = {"auto", *available_predictors()}

    def one(owner: str, s: object) -> BasePredictor:
        if isinstance(s, BasePredictor):
            return s
        if isinstance(s, str):
            if s == "auto":
                return Predictor()
            if s not in names:
                raise unknown_choice(f"predictor for {owner}", s, names,
                                     "Pass a name, a BasePredictor instance, or a list or dict of them.")
            return get_predictor(s)
        raise InvalidParameterTypeError(
            f"{owner} must be a predictor name such as 'gp' or a BasePredictor instance; got {s!r:.60} "
            f"of type {type(s).__name__}{class_given(s, BasePredictor, available_predictors)}."
        )

    if isinstance(spec, Mapping):
        items = [(str(k), one(f"evaluate(predictor={{{k!r}: ...}})", v)) for k, v in spec.items()]
    elif isinstance(spec, (str, BasePredictor)):
        items = [(spec if isinstance(spec, str) else _short_repr(spec), one("evaluate(predictor=...)", spec))]
    elif isinstance(spec, Sequence):
        items = [(s if isinstance(s, str) else _short_repr(one("", s)), one(f"evaluate(predictor=[...]) item {i}", s))
                 for i, s in enumerate(spec)]
    else:
        items = [("", one("evaluate(predictor=...)", spec))]
    if not items:
        raise InvalidParameterError("evaluate(predictor=...) must name at least one predictor; got an empty collection.")
    out: dict[str, BasePredictor] = {}
    for label, model in items:
        if label in BASELINES:
            raise InvalidParameterError(
                f"evaluate(predictor=...): the label {label!r} is a baseline's; pass a dict with another label, "
                "or baselines=False."
            )
        unique, j = label, 2
        while unique in out:
            unique, j = f"{label} #{j}", j + 1
        out[unique] = model
    return out


def _ints(owner: str, param: str, value: object, minimum: int) -> list[int]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    vals = [value] if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not vals:
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be an int or a non-empty list of ints; got {value!r:.60} of type {type(value).__name__}."
        )
    return [check_int(owner, param, v, minimum=minimum) for v in vals]


def _check_k(k: object) -> int | float | None:
    """``k`` as a plain int (a count), a plain float in (0, 1) (a fraction) or None; refuse anything else.

    A float is always a fraction: 1.0 (all of the held-out set, where every ranking overlaps fully) is
    refused rather than read as the top 1, which is ``k=1``.
    """
    k = plain_number(k)  # np.int64(5) a count, np.float32(0.1) a fraction: stored plain in attrs
    allowed = ("an int >= 1 (architectures), a float strictly between 0 and 1 (a fraction of the held-out set) or "
               "None (the top 1%, at least 1)")
    if k is None or (isinstance(k, int) and not isinstance(k, bool) and k >= 1) or (isinstance(k, float) and 0 < k < 1):
        return k
    hint = " A float is a fraction: 1.0 would be the whole held-out set; for the top 1 pass k=1." if k == 1.0 and isinstance(k, float) else ""
    raise InvalidParameterError(f"evaluate(k=...) must be {allowed}; got {k!r}.{hint}")


def _make_progress(progress: object, total: int) -> Any:
    from nasbook.display import progress_mode

    progress = progress_mode(progress, "evaluate(progress=...)")
    if progress is None:
        return None
    if progress == "widget":
        from tqdm.notebook import tqdm
    elif progress == "bar":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(total=total, desc="evaluate", unit="fit")


def _warm_up(space: SearchSpace, archs: list[Architecture], y: np.ndarray, templates: Sequence[BasePredictor],
             used: np.ndarray, first: np.ndarray) -> None:
    """Untimed: encode every architecture the run uses once per encoding (the space caches vectors
    by id) and fit each predictor once on ``first``, so that no recorded time includes the first
    encoding of an architecture or the import of a model's libraries (torch takes seconds)."""
    kinds: set[str] = set()
    for t in templates:
        t._validate_params()
        kinds.update(t._all_features(space))
    for kind in sorted(kinds):
        if len(used) * space.encoding_size(kind) < 2**22:  # what the space's cache keeps
            space.encode_many([archs[i] for i in used], kind)
    for t in templates:
        model = t.clone()
        model.fit([archs[i] for i in first], y[first], space=space)  # type: ignore[arg-type]
        model.predict_mean_std([archs[i] for i in first[:2]])


def _scores(y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, k: int | float | None, mode: str) -> dict[str, float]:
    out = {
        "kendall_tau": _metrics.kendall_tau(y, mean),
        "spearman": _metrics.spearman(y, mean),
        "top_k_overlap": _metrics.top_k_overlap(y, mean, k, mode),
    }
    if std is None:  # a ranking without uncertainty
        out.update(coverage_68=math.nan, coverage_95=math.nan, nll=math.nan)
    else:
        out.update(coverage_68=_metrics.coverage(y, mean, std, 0.68), coverage_95=_metrics.coverage(y, mean, std, 0.95),
                   nll=_metrics.nll(y, mean, std))
    return out


def evaluate(
    predictor: Any,
    task: Any,
    *,
    n_train: int | Sequence[int] = (20, 50, 100, 200, 1000),
    seeds: int | Sequence[int] = 10,
    n_test: int | str | None = "auto",
    baselines: bool | Sequence[str] = True,
    k: int | float | None = None,
    progress: str | bool = "auto",
) -> xr.Dataset:
    """Score predictors on a tabular task against the number of trained architectures.

    For each seed, the task's architectures (those with a finite score in
    ``task.ground_truth()``) are shuffled with ``numpy.random.default_rng(seed)``: the first
    ``n_test`` are held out, and the training sets are the first ``n`` of the rest, for each
    ``n`` in ``n_train``, so they are nested and every size and predictor of a seed is scored on
    the same held-out architectures. Each predictor is cloned (and seeded with the split's seed
    when its own ``seed`` is None), fitted on the training set and scored on the held-out set.

    Parameters
    ----------
    predictor : BasePredictor, str, or a list or dict of them
        One or several predictors, evaluated on the same splits; names as in
        :func:`~nasbook.predictors.available_predictors` or ``"auto"`` (``Predictor()``). A dict
        gives the labels; otherwise a name labels itself and an instance its class and
        non-default parameters.
    task : Task
        A tabular task (``task.ground_truth()``), e.g. ``NasBenchGraph("cora")`` or ``DigitsTable()``.
    n_train : int or sequence of int
        Training-set sizes, each >= 2 and each once (in any order: they are sorted).
    seeds : int or sequence of int
        Splits: ``10`` means seeds 0..9.
    n_test : int, "auto" or None
        Held-out architectures per seed (>= 2); None holds out all those outside the largest
        training set; ``"auto"`` (default) holds out 2,000, or all those outside the largest
        training set on a task with fewer (the 300 architectures of ``DigitsTable``).
        ``attrs["n_test"]`` says how many were held out. An int must leave room:
        ``max(n_train) + n_test`` must not exceed the task's architectures.
    baselines : bool or sequence of str
        Add :data:`BASELINES` (True), none (False) or those named: ``"#params"`` ranks by
        parameter count (it does not train; no uncertainty, so coverage and NLL are NaN; needs
        ``params`` in the ground truth) and ``"onehot-gbt"`` is
        ``GradientBoosting(features="adjacency", target="standard")``. Each named once.
    k : int, float or None, default None
        The top-k of ``top_k_overlap`` (precision@k): a count (an int, below ``n_test``), or a
        fraction of ``n_test`` (a float strictly between 0 and 1; ``1.0`` is refused, not read as
        the top 1), counted as the nearest whole number of architectures, halves up
        (:func:`~nasbook.predictors.top_k_count`: 1% of 200 is 2, of 250 is 3); a fraction below
        half an architecture (``k * n_test < 0.5``) is refused rather than measured as the top 1,
        and a ``k`` that counts all ``n_test`` held-out architectures (every ranking would score 1) too.
        None: the top 1% counted the same way, at least 1 (at any ``n_test``). ``attrs["top_k"]``
        says the count: a small one makes a coarse metric (top 2: 0, 0.5 or 1, or between them where
        scores tie at the k-th place: ties count fractionally, see :func:`~nasbook.predictors.top_k_overlap`).
    progress : {"auto", "widget", "bar", "none"} or bool
        A tqdm progress bar over the fits (``"auto"``: a widget in a notebook, text elsewhere).

    Returns
    -------
    xarray.Dataset
        Dims ``(predictor, n_train, seed)``; variables :data:`VARIABLES` (``fit_s`` and
        ``predict_s`` are wall seconds of ``fit`` and of predicting the held-out set); coords
        ``model`` (each predictor's repr) and ``baseline`` (bool) along ``predictor``; attrs:
        the task, ``metric``, ``mode``, ``n_archs``, ``n_test``, ``top_k``, ``noise_ceiling``
        (where the task has one: the Kendall tau no predictor of its values can be expected to
        beat), versions.

    Examples
    --------
    >>> from nasbook.predictors import evaluate
    >>> from nasbook.tasks import DigitsTable
    >>> ds = evaluate("gp", DigitsTable(), n_train=[20, 50], seeds=2, n_test=100, progress=False)  # doctest: +SKIP
    >>> ds["kendall_tau"].mean("seed").to_pandas()  # doctest: +SKIP
    """
    import xarray as xr

    templates = _resolve_predictors(predictor)
    if not callable(getattr(task, "ground_truth", None)):
        raise InvalidParameterTypeError(
            f"evaluate(task=...) must be a nasbook Task with a table of scores (ground_truth()), such as "
            f"NasBenchGraph('cora') or DigitsTable(); got {task!r:.60} of type {type(task).__name__}."
        )
    sizes = _ints("evaluate", "n_train", n_train, 2)
    if len(set(sizes)) != len(sizes):  # [10, 10] was quietly one size: a typo for [10, 100] went unseen
        raise InvalidParameterError(f"evaluate(n_train=...) must not repeat a size; got {sizes!r:.80}.")
    sizes = sorted(sizes)
    seed_list = list(range(_ints("evaluate", "seeds", seeds, 1)[0])) if isinstance(seeds, (int, np.integer)) \
        else _ints("evaluate", "seeds", seeds, 0)
    if len(set(seed_list)) != len(seed_list):
        raise InvalidParameterError(f"evaluate(seeds=...) must not repeat a seed; got {list(seeds)!r:.80}.")  # type: ignore[arg-type]
    k = _check_k(k)
    if isinstance(baselines, bool):
        base_names = list(BASELINES) if baselines else []
    elif isinstance(baselines, (str, bytes)) or not isinstance(baselines, Sequence):
        raise InvalidParameterTypeError(f"evaluate(baselines=...) must be True, False or a list of {list(BASELINES)}; got {baselines!r:.60}.")
    else:
        base_names = list(baselines)
        for b in base_names:
            if b not in BASELINES:
                raise unknown_choice("baseline for evaluate(baselines=...)", b, BASELINES)
        if len(set(base_names)) != len(base_names):
            raise InvalidParameterError(f"evaluate(baselines=...) must not repeat a baseline; got {base_names!r}.")

    gt = task.ground_truth()  # a task that trains raises here, naming itself
    space = task.space
    by_id = {a.id: a for a in space.enumerate(limit=max(100_000, gt.sizes["arch"]))}
    values = np.asarray(gt["value"].values, dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(values))
    archs = [by_id[str(i)] for i in np.asarray(gt["arch"].values)[keep]]
    y = values[keep]
    params = np.asarray(gt["params"].values, dtype=np.float64)[keep] if "params" in gt else None
    n_all, largest = len(y), sizes[-1]
    if n_test is None:
        n_test_ = n_all - largest
    elif isinstance(n_test, str):
        if n_test != "auto":
            raise InvalidParameterError(
                f'evaluate(n_test=...) must be an int >= 2, "auto" or None; got {n_test!r}.')
        n_test_ = min(AUTO_N_TEST, n_all - largest)
    else:
        n_test_ = check_int("evaluate", "n_test", n_test, minimum=2)
    if n_all - largest < 2:  # no n_test can help: "Lower n_test to at most -2700" said nothing useful
        raise InvalidParameterError(
            f"evaluate(n_train=...): the largest training set (n_train={largest}) leaves fewer than 2 of "
            f"{task.name}'s {n_all} architectures with a finite score to hold out; lower n_train to at most {n_all - 2}."
        )
    if n_test_ < 2 or largest + n_test_ > n_all:
        raise InvalidParameterError(
            f"evaluate(n_train=..., n_test=...): the largest training set (n_train={largest}) plus the held-out set "
            f"(n_test={n_test_}) need {largest + n_test_} architectures, but {task.name} has {n_all} with a finite "
            f"score. Lower n_test to at most {n_all - largest} (n_test=None holds out all the rest) or lower n_train."
        )
    if "#params" in base_names and params is None:
        raise InvalidParameterError(
            f"evaluate(baselines=...): the '#params' baseline needs parameter counts, which {task.name}'s ground truth "
            f"lacks; pass baselines=['onehot-gbt'] or False."
        )
    models: dict[str, BasePredictor | None] = dict(templates)
    for b in base_names:
        models[b] = _onehot_gbt() if b == "onehot-gbt" else None
    labels = list(models)
    top_k = _metrics.top_k_count(k, n_test_, "evaluate")  # a fraction of under half an architecture is refused
    if top_k >= n_test_:  # the top n_test of n_test: every predictor scores 1, whatever it ranks
        raise InvalidParameterError(
            f"evaluate(k=...): the top {top_k} of the n_test={n_test_} held-out architectures is all of them, so "
            f"top_k_overlap would be 1 for any ranking; pass a count below {n_test_} or a smaller fraction; got k={k!r}."
        )

    out = {v: np.full((len(labels), len(sizes), len(seed_list)), np.nan) for v in VARIABLES}
    used = np.unique(np.concatenate([np.random.default_rng(s).permutation(n_all)[: n_test_ + largest] for s in seed_list]))
    first = np.random.default_rng(seed_list[0]).permutation(n_all)[n_test_: n_test_ + sizes[0]]
    _warm_up(space, archs, y, [m for m in models.values() if m is not None], used, first)
    bar = _make_progress(progress, len(labels) * len(sizes) * len(seed_list))
    try:
        for i_s, seed in enumerate(seed_list):
            perm = np.random.default_rng(seed).permutation(n_all)
            test, pool = perm[:n_test_], perm[n_test_: n_test_ + largest]
            test_archs, y_test = [archs[i] for i in test], y[test]
            for i_n, n in enumerate(sizes):
                train_archs, y_train = [archs[i] for i in pool[:n]], y[pool[:n]]
                for i_p, label in enumerate(labels):
                    template = models[label]
                    if template is None:  # "#params": a ranking that does not train
                        assert params is not None
                        rec = {**_scores(y_test, params[test], None, k, task.mode), "fit_s": 0.0, "predict_s": 0.0}
                    else:
                        model = template.clone()
                        if model.seed is None:
                            model.seed = seed
                        t0 = time.perf_counter()
                        model.fit(train_archs, y_train, space=space)  # type: ignore[arg-type]
                        t1 = time.perf_counter()
                        mean, std = model.predict_mean_std(test_archs)
                        t2 = time.perf_counter()
                        rec = {**_scores(y_test, mean, std, k, task.mode), "fit_s": t1 - t0, "predict_s": t2 - t1}
                    for v in VARIABLES:
                        out[v][i_p, i_n, i_s] = rec[v]
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    import scipy
    import sklearn

    import nasbook

    attrs: dict[str, Any] = {
        "task": task.name, "task_repr": repr(task), "metric": task.metric, "mode": task.mode,
        "n_archs": n_all, "n_test": n_test_, "top_k": top_k, "k": k if k is not None else 0.01,
        "baselines": base_names,
        "split": "per seed: numpy.random.default_rng(seed).permutation(n_archs); the first n_test are held out, "
                 "training sets are the first n_train of the rest (nested)",
        "nasbook_version": nasbook.__version__, "numpy_version": np.__version__,
        "scipy_version": scipy.__version__, "sklearn_version": sklearn.__version__,
    }
    for key in ("noise_ceiling", "noise_ceiling_note"):
        if key in gt.attrs:
            attrs[key] = gt.attrs[key]
    if n_all < gt.sizes["arch"]:
        attrs["n_dropped_not_finite"] = gt.sizes["arch"] - n_all
    dims = ("predictor", "n_train", "seed")
    return xr.Dataset(
        {v: xr.Variable(dims, out[v], {"long_name": _LONG_NAMES[v]}) for v in VARIABLES},
        coords={
            "predictor": labels, "n_train": sizes, "seed": seed_list,
            "model": ("predictor", [repr(m) if m is not None else "rank by parameter count" for m in models.values()]),
            "baseline": ("predictor", [label in BASELINES for label in labels]),
        },
        attrs=attrs,
    )
