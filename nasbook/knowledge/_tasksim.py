"""Task similarity: meta-features of the data plus landmarks (what probe architectures scored).

Two tasks are near when the same architectures do well on both: the landmark distance is
``(1 - rho) / 2`` with ``rho`` the Spearman correlation of the probe architectures' scores on the
two tasks (each oriented so that larger is better). The meta-feature distance is
``rms / (1 + rms)``, ``rms`` the root mean square difference of the standardised meta-features
both tasks have (:func:`nasbook.knowledge.meta_vector`; z-scores over the tasks compared). The
distance is their weighted mean over the parts both tasks have (default weights: landmarks 3,
meta-features 1: data sizes say little about which architectures win; NAS-Bench-Graph's datasets
of similar size disagree, cora and cs rank architectures with Spearman 0.14).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.knowledge._meta import meta_vector
from nasbook.knowledge._similar import check_trials, task_quantiles
from nasbook.space import SearchSpace

#: default weights of (meta-features, landmarks) in the task distance
WEIGHTS: tuple[float, float] = (1.0, 3.0)
#: fewest shared probes for a landmark correlation
MIN_PROBES = 3
_META_COLUMNS = ("meta_features", "meta")


def task_meta_table(tasks: Any) -> dict[str, dict[str, float]]:
    """``{task: meta_vector}`` from ``kb.tasks``: a ``task`` column and either a column of dicts
    (``meta_features`` or ``meta``) or one numeric column per feature."""
    import pandas as pd

    if tasks is None:
        return {}
    if not isinstance(tasks, pd.DataFrame) or "task" not in tasks.columns:
        raise InvalidParameterTypeError("tasks=... must be a DataFrame like kb.tasks with a 'task' column; got "
                                        f"{type(tasks).__name__} with columns {list(getattr(tasks, 'columns', []))}.")
    col = next((c for c in _META_COLUMNS if c in tasks.columns), None)
    out: dict[str, dict[str, float]] = {}
    for _, row in tasks.iterrows():
        if col is not None:
            meta = row[col] if isinstance(row[col], Mapping) else {}
        else:
            meta = {c: row[c] for c in tasks.columns if c not in ("task", "name")}
        out[str(row["task"])] = meta_vector(meta)
    return out


def pick_probes(trials: Any, n: int = 10, *, space: SearchSpace | None = None, kind: str | None = None) -> list[str]:
    """``n`` probe architectures (ids) for landmarks: recorded on the most tasks, spread in quality.

    The pool is the architectures recorded on the most tasks (at least ``3 n`` of them when there
    are), in the space with the most trials (or ``space``). The pool is cut into ``n`` strata of
    mean quantile (best to worst: a rank correlation needs good and bad probes); each stratum gives the
    architecture farthest, in standardised encoding (with ``space``), from those already picked, or
    the most recorded one without a space. Deterministic.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``kb.trials()`` (columns task, space_id, arch_id, value, mode).
    n : int, default 10
        How many probes.
    space : SearchSpace, optional
        Restricts the pool to this space and spreads the picks in its encoding.
    kind : str, optional
        The encoding used for the spread (one of ``space.encodings``); None: the space's default.

    Returns
    -------
    list of str
        At most ``n`` architecture ids, best stratum first.
    """
    check_trials("pick_probes", trials, ("task", "space_id", "arch_id", "value", "mode"))
    n = check_int("pick_probes", "n", n, minimum=1)
    if trials.empty:
        raise InvalidParameterError("pick_probes: no trials recorded; landmarks need past trials on other tasks.")
    sid = space.space_id if space is not None else trials["space_id"].value_counts().index[0]
    rows = trials[trials["space_id"] == sid]
    if rows.empty:
        raise InvalidParameterError(f"pick_probes: no trial recorded in space {sid!r}.")
    per = task_quantiles(rows)
    stats = per.groupby("arch_id", sort=False).agg(n_tasks=("task", "size"), quantile=("quantile", "mean"))
    stats = stats.assign(key=stats.index.astype(str)).sort_values(["n_tasks", "key"], ascending=[False, True])
    pool_min = stats["n_tasks"].iloc[min(len(stats), 3 * n) - 1]
    pool = stats[stats["n_tasks"] >= max(pool_min, min(2, stats["n_tasks"].iloc[0]))]
    if len(pool) <= n:
        return [str(a) for a in pool.index]
    pool = pool.sort_values(["quantile", "key"], ascending=[False, True])
    strata = np.array_split(np.arange(len(pool)), n)
    vec = None
    if space is not None:
        from nasbook.knowledge._vectors import check_kind, reference_stats, standardise
        from nasbook.space import Architecture

        kind = check_kind("pick_probes", space, kind)
        specs = rows.drop_duplicates("arch_id").set_index("arch_id")["arch"] if "arch" in rows.columns else None
        if specs is not None:
            archs = [Architecture(sid, str(a), specs[a]) for a in pool.index]
            vec = standardise(space.encode_many(archs, kind), *reference_stats(space, kind))
    chosen: list[int] = []
    for stratum in strata:
        if vec is None or not chosen:
            best = int(stratum[np.argmax(pool["n_tasks"].to_numpy()[stratum])])
        else:
            d = ((vec[stratum][:, None, :] - vec[chosen][None, :, :]) ** 2).sum(-1).min(axis=1)
            best = int(stratum[np.argmax(d)])
        chosen.append(best)
    return [str(pool.index[i]) for i in chosen]


def landmark_table(trials: Any, probes: Sequence[str]) -> Any:
    """Tasks x probes: each probe's mean recorded value on each task.

    Values are negated on ``mode="min"`` tasks (so larger is better everywhere). Of a
    multi-fidelity search only the trials at its most epochs count (:mod:`nasbook.knowledge._fidelity`).

    Parameters
    ----------
    trials : pandas.DataFrame
        ``kb.trials()`` (columns task, space_id, arch_id, value, mode).
    probes : sequence of str
        Architecture ids, the table's columns.

    Returns
    -------
    pandas.DataFrame
        Index: tasks; columns: ``probes``; NaN where a probe was not recorded on a task.
    """
    from nasbook.knowledge._fidelity import top_fidelity

    check_trials("landmark_table", trials, ("task", "arch_id", "value", "mode"))
    trials = top_fidelity(trials)
    probes = [str(p) for p in probes]
    rows = trials[trials["arch_id"].astype(str).isin(probes)]
    per = rows.assign(arch_id=rows["arch_id"].astype(str)).groupby(["task", "arch_id"])["value"].mean().unstack()
    per = per.reindex(columns=probes)
    mode = trials.groupby("task")["mode"].first()
    sign = np.where(mode.reindex(per.index).to_numpy() == "min", -1.0, 1.0)
    return per.mul(sign, axis=0)


def with_stored_landmarks(table: Any, tasks: Any, probes: Sequence[str]) -> Any:
    """``table`` (:func:`landmark_table`) with the landmarks stored on tasks (``kb.tasks``' ``landmarks``
    column, from ``measure_landmarks``) filled in where no trial recorded that probe on that task:
    a task measured on the probes but never searched has a row too."""
    import pandas as pd

    if tasks is None or not isinstance(tasks, pd.DataFrame) or "landmarks" not in tasks.columns:
        return table
    table = table.copy()
    for _, row in tasks.iterrows():
        marks = row["landmarks"]
        if not isinstance(marks, Mapping):
            continue
        sign = -1.0 if row.get("mode") == "min" else 1.0
        t = str(row["task"])
        for p in probes:
            if p in marks and (t not in table.index or not np.isfinite(table.loc[t, p])):
                table.loc[t, p] = sign * float(marks[p])
    return table


def _spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    from scipy.stats import spearmanr

    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < MIN_PROBES or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan"), n
    return float(spearmanr(a[ok], b[ok]).statistic), n


def _meta_parts(query: Mapping[str, float], others: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Per other task, ``{feature: squared z difference}`` over the features both have."""
    keys = set(query).union(*[set(m) for m in others.values()]) if others else set(query)
    mean, std = {}, {}
    for key in keys:
        vals = [m[key] for m in [query, *others.values()] if key in m]
        if len(vals) >= 2 and np.std(vals) > 1e-12:
            mean[key], std[key] = float(np.mean(vals)), float(np.std(vals))
    return {t: {key: ((query[key] - m[key]) / std[key]) ** 2 for key in std if key in query and key in m}
            for t, m in others.items()}


def _check_weights(weights: Sequence[float]) -> tuple[float, float]:
    if len(weights) != 2 or any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidParameterError(f"weights=... must be (meta, landmarks), two finite numbers >= 0, not both 0; "
                                    f"got {weights!r}.")
    return float(weights[0]), float(weights[1])


def task_scores(qmeta: Mapping[str, float], qland: Mapping[str, float], metas: Mapping[str, Mapping[str, float]],
                table: Any, *, weights: Sequence[float] = WEIGHTS) -> Any:
    """The distance of a query task to each task of ``metas``/``table`` (rows of the answer), with its
    parts. ``qmeta`` is a :func:`meta_vector`, ``qland`` landmark scores oriented larger-is-better."""
    import pandas as pd

    wm, wl = _check_weights(weights)
    tasks = sorted(set(metas) | set(table.index))
    parts = _meta_parts(qmeta, {t: metas.get(t, {}) for t in tasks})
    records = []
    for t in tasks:
        sq = parts[t]
        rms = float(np.sqrt(np.mean(list(sq.values())))) if sq else float("nan")
        d_meta = rms / (1.0 + rms) if sq else float("nan")
        if t in table.index and qland:
            cols = [c for c in table.columns if c in qland]
            rho, n = _spearman(np.array([qland[c] for c in cols]), table.loc[t, cols].to_numpy(dtype=float))
        else:
            rho, n = float("nan"), 0
        d_land = (1.0 - rho) / 2.0 if np.isfinite(rho) else float("nan")
        num = (wm * d_meta if np.isfinite(d_meta) else 0.0) + (wl * d_land if np.isfinite(d_land) else 0.0)
        den = (wm if np.isfinite(d_meta) else 0.0) + (wl if np.isfinite(d_land) else 0.0)
        total = sum(sq.values())
        shares = {f"meta:{key}": (v / total if total > 0 else 0.0) for key, v in sq.items()}
        records.append({"task": t, "distance": num / den if den > 0 else float("nan"), "landmark_rho": rho,
                        "n_probes": n, "landmark_distance": d_land, "meta_distance": d_meta,
                        "n_meta": len(sq), **shares})
    return pd.DataFrame.from_records(records)


def _why(row: Any, wm: float, wl: float) -> str:
    bits = []
    if np.isfinite(row["landmark_distance"]):
        bits.append(f"landmarks rho={row['landmark_rho']:.2f} over {int(row['n_probes'])} probes (weight {wl:g})")
    if np.isfinite(row["meta_distance"]):
        shares = {k[5:]: row[k] for k in row.index if k.startswith("meta:") and np.isfinite(row[k])}
        top = sorted(shares.items(), key=lambda kv: -kv[1])[:2]
        differs = ", ".join(f"{k} {v:.0%}" for k, v in top if v > 0) or "none"
        bits.append(f"meta {row['meta_distance']:.2f} over {int(row['n_meta'])} features (weight {wm:g}; differ most: "
                    f"{differs})")
    return "; ".join(bits) or "nothing shared"


def similar_tasks(tasks: Any, trials: Any, query_meta: Mapping[str, Any] | None = None,
                  query_landmarks: Mapping[str, float] | None = None, k: int = 5, *, probes: Sequence[str] | None = None,
                  query_mode: str = "max", exclude: str | Sequence[str] | None = None,
                  weights: Sequence[float] = WEIGHTS) -> Any:
    """The ``k`` recorded tasks nearest to a query task, saying why.

    Parameters
    ----------
    tasks : pandas.DataFrame or None
        ``kb.tasks``: a ``task`` column and the meta-features (a dict column ``meta_features`` or one
        column per feature).
    trials : pandas.DataFrame
        ``kb.trials()`` (columns task, space_id, arch_id, value, mode).
    query_meta : mapping, optional
        The query's meta-features (``task_meta_features(task)``).
    query_landmarks : mapping, optional
        ``{arch_id: score}`` of probe architectures (:func:`pick_probes`) measured on the query task.
    k : int
        How many tasks.
    probes : sequence of str, optional
        The probes to compare on (default: those of ``query_landmarks``).
    query_mode : {"max", "min"}
        Whether larger query scores are better.
    exclude : str or sequence of str, optional
        Tasks to leave out (the query itself, when it is recorded).
    weights : (float, float)
        Weights of the meta-feature and landmark distances.

    Returns
    -------
    pandas.DataFrame
        Nearest first: ``task``, ``distance`` (0..1), ``landmark_rho``, ``n_probes``, ``landmark_distance``,
        ``meta_distance``, ``n_meta``, ``meta:<feature>`` (each feature's share of the meta distance),
        ``why`` (a sentence).
    """
    k = check_int("similar_tasks", "k", k, minimum=1)
    check_trials("similar_tasks", trials, ("task", "arch_id", "value", "mode"))
    if query_mode not in ("max", "min"):
        raise InvalidParameterError(f"similar_tasks(query_mode=...) must be 'max' or 'min'; got {query_mode!r}.")
    if not meta_vector(query_meta) and not query_landmarks:
        raise InvalidParameterError(
            "similar_tasks: the query task has no meta-features and no landmarks, so nothing can compare it to the "
            "recorded tasks. Pass query_meta (task.meta_features(), or nbg_meta_features(name)) or query_landmarks "
            "(scores of pick_probes(trials) architectures measured on the task)."
        )
    wm, wl = _check_weights(weights)
    probes = [str(p) for p in (probes if probes is not None else (query_landmarks or {}))]
    metas = task_meta_table(tasks)
    table = landmark_table(trials, probes) if probes else landmark_table(trials, []).iloc[:, :0]
    table = with_stored_landmarks(table, tasks, probes) if probes else table
    drop = {exclude} if isinstance(exclude, str) else set(exclude or ())
    recorded = sorted(set(metas) | set(table.index))
    metas = {t: m for t, m in metas.items() if t not in drop}
    table = table[~table.index.isin(drop)]
    if not metas and table.empty:
        said = (f"the only recorded task{'s' if len(recorded) > 1 else ''} ({', '.join(map(repr, recorded))}) "
                "is the query itself, left out of its own answer" if recorded else "no task is recorded yet")
        raise InvalidParameterError(f"similar_tasks: no other recorded task to compare with: {said}. Record searches "
                                    "on other tasks first (Search(..., kb=kb)).")
    qland = {str(a): float(v) * (-1.0 if query_mode == "min" else 1.0) for a, v in (query_landmarks or {}).items()}
    scores = task_scores(meta_vector(query_meta), qland, metas, table, weights=(wm, wl))
    scores = scores[np.isfinite(scores["distance"])].sort_values(["distance", "task"]).head(k).reset_index(drop=True)
    scores["why"] = [_why(r, wm, wl) for _, r in scores.iterrows()]
    scores.attrs.update({"weights": (wm, wl), "probes": probes})
    return scores


def task_distances(tasks: Any, trials: Any, *, probes: Sequence[str] | None = None, n_probes: int = 10,
                   space: SearchSpace | None = None, weights: Sequence[float] = WEIGHTS) -> Any:
    """The symmetric task x task distance matrix of :func:`similar_tasks`.

    Each recorded task is queried with its own meta-features and its own landmark scores (probes
    from :func:`pick_probes`).

    Parameters
    ----------
    tasks : pandas.DataFrame or None
        ``kb.tasks``: a ``task`` column and the meta-features (a dict column ``meta_features`` or one
        column per feature).
    trials : pandas.DataFrame
        ``kb.trials()`` (columns task, space_id, arch_id, value, mode).
    probes : sequence of str, optional
        Probe architecture ids to compare tasks on; None picks ``n_probes`` with :func:`pick_probes`.
    n_probes : int, default 10
        How many probes to pick when ``probes`` is None.
    space : SearchSpace, optional
        Picks the probes in this space, spread in its encoding; None: the space with the most trials.
    weights : (float, float), default (1.0, 3.0)
        Weights of the meta-feature and landmark distances.

    Returns
    -------
    pandas.DataFrame
        Square, index and columns the task names; NaN where two tasks cannot be compared.
    """
    import pandas as pd

    check_trials("task_distances", trials, ("task", "space_id", "arch_id", "value", "mode"))
    wm, wl = _check_weights(weights)
    probes = [str(p) for p in probes] if probes is not None else pick_probes(trials, n_probes, space=space)
    metas = task_meta_table(tasks)
    table = with_stored_landmarks(landmark_table(trials, probes), tasks, probes)
    names = sorted(set(metas) | set(table.index))
    out = pd.DataFrame(0.0, index=pd.Index(names, name="task"), columns=pd.Index(names, name="other"))
    for t in names:
        lm = table.loc[t].dropna().to_dict() if t in table.index else {}
        # the others without t itself: t is the query, and counting it twice would skew the features' spread
        # (similar_tasks leaves the query out the same way, so a row here is its answer for t)
        others = {u: m for u, m in metas.items() if u != t}
        scores = task_scores(metas.get(t, {}), lm, others, table[table.index != t], weights=(wm, wl))
        if scores.empty:  # t is the only task: nothing else on its row (the diagonal is set below)
            out.loc[t] = np.nan
            continue
        out.loc[t] = scores.set_index("task")["distance"].reindex(names).to_numpy()
    d = (out.to_numpy() + out.to_numpy().T) / 2.0
    np.fill_diagonal(d, 0.0)
    sym = pd.DataFrame(d, index=out.index, columns=out.columns)
    sym.attrs["probes"] = probes
    return sym


def incomparable(dist: Any) -> str:
    """Why a task x task distance matrix has gaps: the pairs without a distance, and how to give them one."""
    names = list(dist.index)
    bad = [(names[i], names[j]) for i, j in np.argwhere(~np.isfinite(dist.to_numpy(dtype=float))) if i < j]
    first = ", ".join(f"{a!r} and {b!r}" for a, b in bad[:3]) + (f" (and {len(bad) - 3} more pairs)" if len(bad) > 3 else "")
    return (f"{len(bad)} of the {len(names) * (len(names) - 1) // 2} pairs of recorded tasks cannot be compared "
            f"({first}): they share neither meta-features nor 3 probe architectures with landmarks. Store the "
            "meta-features of every task (kb.add_task_meta(task, meta_features=...)) or measure landmarks on every "
            "task (kb.measure_landmarks(task)).")


def cluster_tasks(tasks: Any, trials: Any, n_clusters: int | None = None, *, probes: Sequence[str] | None = None,
                  n_probes: int = 10, space: SearchSpace | None = None, weights: Sequence[float] = WEIGHTS) -> Any:
    """Group the recorded tasks by :func:`task_distances` (average-linkage hierarchical clustering, scipy).

    Parameters
    ----------
    tasks : pandas.DataFrame or None
        ``kb.tasks``: a ``task`` column and the meta-features (a dict column ``meta_features`` or one
        column per feature).
    trials : pandas.DataFrame
        ``kb.trials()`` (columns task, space_id, arch_id, value, mode).
    n_clusters : int, optional
        How many clusters; None picks the count with the best silhouette (scikit-learn) among
        2 .. n-1.
    probes : sequence of str, optional
        Probe architecture ids to compare tasks on; None picks ``n_probes`` with :func:`pick_probes`.
    n_probes : int, default 10
        How many probes to pick when ``probes`` is None.
    space : SearchSpace, optional
        Picks the probes in this space, spread in its encoding; None: the space with the most trials.
    weights : (float, float), default (1.0, 3.0)
        Weights of the meta-feature and landmark distances.

    Returns
    -------
    pandas.DataFrame
        ``task``, ``cluster`` (0-based, by size), ``silhouette`` (per task).
    """
    import pandas as pd
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n_clusters = check_int("cluster_tasks", "n_clusters", n_clusters, minimum=1, allow_none=True)
    dist = task_distances(tasks, trials, probes=probes, n_probes=n_probes, space=space, weights=weights)
    n = len(dist)
    if n < 2:
        raise InvalidParameterError(f"cluster_tasks: {n} task(s) recorded; clustering needs at least 2.")
    d = dist.to_numpy()
    if not np.isfinite(d).all():
        raise InvalidParameterError(f"cluster_tasks: {incomparable(dist)}")
    if n_clusters is not None and n_clusters > n:
        raise InvalidParameterError(f"cluster_tasks(n_clusters=...) must be at most the {n} recorded tasks; got {n_clusters}.")
    from sklearn.metrics import silhouette_samples, silhouette_score

    tree = linkage(squareform(d, checks=False), method="average")
    if n_clusters is None:
        options = range(2, n) if n > 2 else [n]
        scored = [(silhouette_score(d, fcluster(tree, c, "maxclust"), metric="precomputed")
                   if 1 < len(set(fcluster(tree, c, "maxclust"))) < n else -1.0, c) for c in options]
        n_clusters = max(scored, key=lambda sc: (sc[0], -sc[1]))[1]
    labels = fcluster(tree, n_clusters, "maxclust")
    order = {lab: i for i, (lab, _) in enumerate(pd.Series(labels).value_counts().sort_index().sort_values(
        ascending=False, kind="stable").items())}
    sil = silhouette_samples(d, labels, metric="precomputed") if 1 < len(set(labels)) < n else np.zeros(n)
    out = pd.DataFrame({"task": dist.index.to_list(), "cluster": [order[x] for x in labels], "silhouette": sil})
    out.attrs.update({"n_clusters": int(n_clusters), "probes": dist.attrs["probes"]})
    return out
