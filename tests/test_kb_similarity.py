"""Architecture similarity (ArchIndex, similar_archs) and task similarity over kb.trials()-shaped frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.knowledge import (
    ArchIndex,
    StaleIndexError,
    _neighbourhood_info,
    _task_map_info,
    cluster_tasks,
    landmark_table,
    nbg_meta_features,
    pick_probes,
    similar_archs,
    similar_tasks,
    sync_index,
    task_distances,
    task_meta_features,
)
from nasbook.space import CellSpace, GraphSpace

METHODS = ("flat", "ivf", "hnsw")


@pytest.fixture(scope="module")
def cells():
    space = CellSpace()
    return space, space.enumerate()


def brute(index, query, ids, k):
    """Exact neighbours by numpy over the standardised encodings of ``ids`` (ties broken by int id)."""
    space = index.space
    archs = {a.id: a for a in space.enumerate()}
    x = (space.encode_many([archs[i] for i in ids], index.kind) - index.mean_) / index.scale_
    q = (space.encode(query, index.kind) - index.mean_) / index.scale_
    d = ((x - q) ** 2).sum(1)
    order = np.lexsort(([index.int_id(i) for i in ids], d))
    return [ids[i] for i in order[:k]], np.sqrt(d[order[:k]])


# -- ArchIndex ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_similar_returns_exactly_k_after_filters(cells, method):
    space, archs = cells
    index = ArchIndex(space, method=method).add(archs[:3000])
    query = archs[10]
    near = index.similar(query, 7)
    assert len(near) == 7 and query.id not in set(near["arch_id"])
    assert near["distance"].is_monotonic_increasing
    rng = np.random.default_rng(0)
    for size in (3, 7, 40, 1500):  # a filter smaller than k gives all of it; larger ones give exactly k
        allowed = {archs[i].id for i in rng.choice(3000, size, replace=False)} | {"not-indexed"}
        got = index.similar(query, 7, filter=allowed)
        inside = allowed - {"not-indexed", query.id}
        assert len(got) == min(7, len(inside))
        assert set(got["arch_id"]) <= inside
        want, dist = brute(index, query, sorted(inside, key=index.int_id), 7)  # filtered answers are exact
        assert got["arch_id"].tolist() == want
        np.testing.assert_allclose(got["distance"], dist, rtol=1e-4, atol=1e-4)
    assert len(index.similar(query, 5, filter=[query.id])) == 0  # only itself: nothing else exists
    assert index.similar(query, 3, exclude_self=False)["arch_id"].iloc[0] == query.id


def test_ids_map_both_ways_and_are_never_reused(cells):
    space, archs = cells
    index = ArchIndex(space).add(archs[:50]).add(archs[:60])  # re-adding is a no-op
    assert len(index) == 60
    for i, a in enumerate(archs[:60]):
        assert index.int_id(a.id) == i and index.arch_id(i) == a.id
    assert index.remove([archs[3].id, "unknown"]) == 1
    with pytest.raises(KeyError):
        index.arch_id(3)
    assert archs[3] not in index and len(index) == 59
    index.add([archs[3]])
    assert index.int_id(archs[3].id) == 60  # a new int id, never the removed one
    assert archs[3].id in set(index.similar(archs[2], 59, exclude_self=True)["arch_id"])


@pytest.mark.parametrize("method", METHODS)
def test_persistence_round_trips(cells, method):
    space, archs = cells
    index = ArchIndex(space, method=method).add(archs[:2000])
    index.remove([archs[5].id])
    data = index.to_bytes()
    back = ArchIndex.from_bytes(data, space)
    assert (back.kind_built_, len(back), back.encoding_version) == (method, 1999, index.encoding_version)
    for q in archs[100:105]:
        pd.testing.assert_frame_equal(back.similar(q, 10), index.similar(q, 10))
    again = ArchIndex.from_bytes(back.to_bytes(), space)  # byte-equal except an IVF hash map's order
    assert len(back.to_bytes()) == len(data) and again.arch_ids == index.arch_ids
    pd.testing.assert_frame_equal(again.similar(archs[3000], 10), index.similar(archs[3000], 10))
    vector_only = ArchIndex.from_bytes(data)  # no space: vectors still query, architectures need it
    pd.testing.assert_frame_equal(vector_only.similar(space.encode(archs[7], index.kind), 4), index.similar(
        space.encode(archs[7], index.kind), 4))
    with pytest.raises(InvalidParameterError, match="without its space"):
        vector_only.similar(archs[5000], 3)  # not indexed: it must be encoded


def test_corrupt_bytes_are_refused(cells):
    space, archs = cells
    data = ArchIndex(space).add(archs[:100]).to_bytes()
    with pytest.raises(InvalidParameterError, match="not an architecture index"):
        ArchIndex.from_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(InvalidParameterError, match="corrupt"):
        ArchIndex.from_bytes(data[:-500])


class GraphSpaceV2(GraphSpace):
    """GraphSpace whose "graf" layout moved on: same space id, another encoding version."""

    ENCODING_VERSIONS = {**GraphSpace.ENCODING_VERSIONS, "graf": 2}


def graph_trials(space, archs, tasks=("a", "b")):
    rows = []
    for t, task in enumerate(tasks):
        for i, a in enumerate(archs):
            if (i + t) % 3:  # each task records about two thirds of them
                rows.append({"task": task, "search": "s", "strategy": "random", "space_id": space.space_id,
                             "arch_id": a.id, "arch": a.spec, "value": float(np.sin(i + t)), "mode": "max"})
    return pd.DataFrame(rows)


def test_an_encoding_version_change_rebuilds_the_index():
    old, new = GraphSpace(), GraphSpaceV2()
    assert old.space_id == new.space_id and old.encoding_version("graf") != new.encoding_version("graf")
    archs = [old.sample(np.random.default_rng(i)) for i in range(80)]
    trials = graph_trials(old, archs)
    index, changed = sync_index(trials, old)
    assert changed and len(index) == len(trials["arch_id"].unique())
    data = index.to_bytes()
    assert sync_index(trials, old, data)[1] is False  # current: reused as it is
    with pytest.raises(StaleIndexError, match="rebuild"):
        ArchIndex.from_bytes(data, new)
    assert index.is_stale(new)
    rebuilt, changed = sync_index(trials, new, data)  # stale bytes: rebuilt from the recorded specs
    assert changed and rebuilt.encoding_version == new.encoding_version("graf") and len(rebuilt) == len(index)
    rebuilt2, changed = sync_index(trials, new, index)  # a stale object too
    assert changed and rebuilt2.encoding_version == new.encoding_version("graf")
    more = graph_trials(old, archs + [old.sample(np.random.default_rng(99))])
    grown, changed = sync_index(more, old, data)  # architectures recorded since are added
    assert changed and len(grown) == len(more["arch_id"].unique())
    fewer, changed = sync_index(trials[trials["task"] == "a"], old, data)  # and dropped ones removed
    assert changed and len(fewer) == trials.loc[trials["task"] == "a", "arch_id"].nunique()


@pytest.mark.slow
@pytest.mark.parametrize("method", ("ivf", "hnsw"))
def test_approximate_recall_against_exact_search(cells, method):
    space, archs = cells
    approx = ArchIndex(space, method=method).add(archs)
    exact = ArchIndex(space, method="flat").add(archs)
    rng = np.random.default_rng(1)
    hits = []
    for i in rng.choice(len(archs), 40, replace=False):
        a, e = approx.similar(archs[i], 10), exact.similar(archs[i], 10)
        hits.append((a["distance"].to_numpy() <= e["distance"].iloc[-1] + 1e-4).mean())
    assert np.mean(hits) >= 0.95


def test_auto_switches_from_exact_to_ivf_as_it_grows(cells):
    space, archs = cells
    index = ArchIndex(space, exact_max=500).add(archs[:400])
    assert index.kind_built_ == "flat"
    index.add(archs[400:1200])
    assert index.kind_built_ == "ivf" and len(index) == 1200
    assert len(index.similar(archs[0], 10)) == 10


def test_ivf_visits_default_nprobe_lists_however_many_it_has(cells):
    """Above EXACT_MAX the index is IVF with DEFAULT_NPROBE (32) lists a query, also at 10^6 vectors (nlist 1000),
    where the former max(32, nlist // 16) visited 62 lists and missed 5 ms a query (docs/benchmarks.md, 11s)."""
    from types import SimpleNamespace

    from nasbook.knowledge._index import DEFAULT_NPROBE

    space, archs = cells
    index = ArchIndex(space, exact_max=500).add(archs[:1200])
    assert index.kind_built_ == "ivf" and DEFAULT_NPROBE == 32
    real = index._index
    index._index = SimpleNamespace(nlist=1000)  # the nlist of a 10^6-vector index, without building one
    try:
        assert index._params(None).nprobe == 32
        index.nprobe = 100
        assert index._params(None).nprobe == 100
    finally:
        index._index, index.nprobe = real, None


def test_bad_input_is_refused(cells):
    space, archs = cells
    with pytest.raises(InvalidParameterTypeError, match="SearchSpace"):
        ArchIndex("cell")
    with pytest.raises(InvalidParameterError, match="Unknown ArchIndex"):
        ArchIndex(space, method="annoy")
    with pytest.raises(InvalidParameterError, match="encoding"):
        ArchIndex(space, kind="onehot")
    index = ArchIndex(space).add(archs[:20])
    other = GraphSpace().sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="belongs to space"):
        index.similar(other, 3)
    with pytest.raises(InvalidParameterError, match="belongs to space"):
        index.add([other])
    with pytest.raises(InvalidParameterError, match="k"):
        index.similar(archs[0], 0)
    with pytest.raises(InvalidParameterTypeError, match="columns"):
        index.similar(np.zeros(3), 3)
    with pytest.raises(InvalidParameterTypeError, match="not one string"):
        index.similar(archs[0], 3, filter=archs[1].id)


# -- similar_archs --------------------------------------------------------------------------------
def test_similar_archs_gives_neighbours_with_their_recorded_scores():
    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(120)]
    trials = graph_trials(space, archs)
    query = archs[0]
    near = similar_archs(trials, space, query, k=8)
    assert near["arch_id"].nunique() == 8 and query.id not in set(near["arch_id"])
    assert set(near.columns) >= {"arch_id", "distance", "task", "value", "quantile", "n_trials", "n_tasks", "scores", "arch"}
    on_b = similar_archs(trials, space, query, k=8, task="b")
    recorded_b = trials[trials["task"] == "b"].set_index("arch_id")["value"]
    assert len(on_b) == 8 and set(on_b["arch_id"]) <= set(recorded_b.index)
    np.testing.assert_allclose(on_b["value"], recorded_b.loc[on_b["arch_id"]].to_numpy())
    assert ((on_b["quantile"] > 0) & (on_b["quantile"] <= 1)).all()
    assert on_b.attrs["task"] == "b" and on_b.attrs["kind"] == "graf"
    n_b = trials.loc[trials["task"] == "b", "arch_id"].nunique()
    assert len(similar_archs(trials, space, query, k=500, task="b")) == n_b - (query.id in set(recorded_b.index))


def test_similar_archs_without_a_task_gives_each_neighbours_value_on_each_of_its_tasks():
    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(120)]
    trials = graph_trials(space, archs)
    near = similar_archs(trials, space, archs[0], k=10)
    recorded = trials.groupby(["arch_id", "task"])["value"].mean()
    assert near["arch_id"].nunique() == 10 and near["value"].notna().all() and near["task"].notna().all()
    assert (near.groupby("arch_id", sort=False)["task"].apply(list)
            == trials.groupby("arch_id")["task"].apply(sorted).loc[near["arch_id"].unique()]).all()  # all its tasks
    np.testing.assert_allclose(near["value"], [recorded[(a, t)] for a, t in zip(near["arch_id"], near["task"])])
    assert near["distance"].is_monotonic_increasing  # nearest first, a neighbour's rows together
    assert (near.groupby("arch_id")["n_tasks"].first() == near.groupby("arch_id").size()).all()
    both = near[near["n_tasks"] == 2]
    assert len(both) >= 2  # architectures recorded on both tasks: one value on each, never averaged across
    on_b = similar_archs(trials, space, archs[0], k=10, task="b").set_index("arch_id")
    mine = near[near["task"] == "b"].set_index("arch_id")
    shared = mine.index.intersection(on_b.index)
    assert len(shared) and np.allclose(mine.loc[shared, "value"], on_b.loc[shared, "value"])
    assert np.allclose(mine.loc[shared, "quantile"], on_b.loc[shared, "quantile"])
    assert (on_b["task"] == "b").all()


def test_similar_archs_bad_input():
    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(30)]
    trials = graph_trials(space, archs)
    with pytest.raises(InvalidParameterError, match="no trial is recorded in space"):
        similar_archs(trials, CellSpace(), CellSpace().sample(np.random.default_rng(0)), 3)
    with pytest.raises(InvalidParameterError, match="belongs to space"):
        similar_archs(trials, space, CellSpace().sample(np.random.default_rng(0)), 3)
    with pytest.raises(InvalidParameterError, match="k"):
        similar_archs(trials, space, archs[0], 0)
    with pytest.raises(InvalidParameterError, match="Unknown task"):
        similar_archs(trials, space, archs[0], 3, task="c")
    with pytest.raises(InvalidParameterError, match="lacks the columns"):
        similar_archs(trials.drop(columns="arch"), space, archs[0], 3)


def test_neighbourhood_plot_data():
    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(60)]
    near = similar_archs(graph_trials(space, archs), space, archs[0], k=6, task="a")
    info = _neighbourhood_info(near)
    assert len(info) == 6 and info.attrs["score_name"] == "value"
    np.testing.assert_allclose(info["score"], near["value"])
    with pytest.raises(InvalidParameterTypeError, match="similar_archs"):
        _neighbourhood_info(near.drop(columns="quantile"))


@pytest.mark.slow
def test_the_plots_draw():
    hv = pytest.importorskip("holoviews")
    from nasbook.knowledge import plot_neighbourhood, plot_task_map

    space = GraphSpace()
    archs = [space.sample(np.random.default_rng(i)) for i in range(60)]
    near = similar_archs(graph_trials(space, archs), space, archs[0], k=6)
    assert isinstance(plot_neighbourhood(near), hv.Element)
    dist = pd.DataFrame([[0, 0.2, 0.8], [0.2, 0, 0.7], [0.8, 0.7, 0]], index=list("abc"), columns=list("abc"))
    assert isinstance(plot_task_map(dist), hv.Overlay)


# -- task similarity on NAS-Bench-Graph -------------------------------------------------------------
@pytest.fixture(scope="module")
def nbg():
    """Trials on the eight NAS-Bench-Graph datasets that share GraphSpace (proteins has its own ops):
    200 architectures recorded on all of them plus 200 per dataset, values from the table."""
    from nasbook.tasks import NBG_DATASETS, NasBenchGraph

    names = [d for d in NBG_DATASETS if d != "proteins"]
    truth = {d: NasBenchGraph(d).ground_truth()["value"].to_series() for d in names}
    space = NasBenchGraph("cora").space
    specs = {a.id: a.spec for a in space.enumerate()}
    ids = truth["cora"].index.to_numpy()
    rng = np.random.default_rng(0)
    common = rng.choice(len(ids), 200, replace=False)
    frames = []
    for d in names:
        pick = ids[np.union1d(common, rng.choice(len(ids), 200, replace=False))]
        frames.append(pd.DataFrame({"task": f"nbg-{d}", "search": "s", "strategy": "random", "space_id": space.space_id,
                                    "arch_id": pick, "arch": [specs[i] for i in pick],
                                    "value": truth[d].loc[pick].to_numpy(), "mode": "max"}))
    trials = pd.concat(frames, ignore_index=True)
    tasks = pd.DataFrame({"task": [f"nbg-{d}" for d in names], "meta_features": [nbg_meta_features(d) for d in names]})
    full = pd.DataFrame({f"nbg-{d}": truth[d] for d in names}).corr(method="spearman")
    return space, trials, tasks, truth, full


@pytest.mark.slow
def test_landmarks_rank_tasks_with_correlated_ground_truth_closer(nbg):
    from scipy.stats import spearmanr

    space, trials, tasks, truth, full = nbg
    agreement = []
    for name in full.index:
        others = trials[trials["task"] != name]
        probes = pick_probes(others, 15, space=space)
        assert len(probes) == 15 and len(set(probes)) == 15
        assert (others[others["arch_id"].isin(probes)].groupby("arch_id")["task"].nunique() == 7).all()
        scores = {p: float(truth[name.removeprefix("nbg-")].loc[p]) for p in probes}
        near = similar_tasks(tasks, others, None, scores, k=7, exclude=name)
        assert len(near) == 7 and name not in set(near["task"])
        true_rho = full.loc[name, near["task"]].to_numpy()
        agreement.append(spearmanr(-near["distance"], true_rho).statistic)
        if name in ("nbg-arxiv", "nbg-cs"):  # their closest by the full tables: computers (0.62), photo (0.61)
            assert near["task"].iloc[0] == full.loc[name].drop(name).idxmax()
    assert np.mean(agreement) > 0.4  # 0.59 measured: landmark distance follows the tables' rank correlation


@pytest.mark.slow
def test_cluster_tasks_groups_datasets_that_rank_alike(nbg):
    space, trials, tasks, _, full = nbg
    clusters = cluster_tasks(tasks, trials, space=space, n_probes=15).set_index("task")["cluster"]
    assert clusters["nbg-arxiv"] == clusters["nbg-computers"]  # the pair the full tables correlate most
    pairs = [(a, b) for i, a in enumerate(full.index) for b in full.index[i + 1:]]
    same = [full.loc[a, b] for a, b in pairs if clusters[a] == clusters[b]]
    apart = [full.loc[a, b] for a, b in pairs if clusters[a] != clusters[b]]
    assert same and apart and np.mean(same) > np.mean(apart) + 0.1  # grouped tasks rank architectures alike
    dist = task_distances(tasks, trials, space=space, n_probes=15)
    np.testing.assert_allclose(dist.to_numpy(), dist.to_numpy().T)
    assert (np.diag(dist.to_numpy()) == 0).all() and ((dist.to_numpy() >= 0) & (dist.to_numpy() <= 1)).all()
    info = _task_map_info(dist, cluster_tasks(tasks, trials, n_clusters=3, space=space, n_probes=15))
    assert len(info) == 8 and info["cluster"].nunique() == 3
    assert info.set_index("task").loc["nbg-arxiv", "nearest"] == "nbg-computers"
    assert _task_map_info(dist, method="pca").attrs["explained"] > 0


@pytest.fixture(scope="module")
def nbg_meta():
    """The eight GraphSpace datasets' meta-features and one recorded trial each (no tables read)."""
    from nasbook.tasks import NBG_DATASETS

    names = [d for d in NBG_DATASETS if d != "proteins"]
    tasks = pd.DataFrame({"task": [f"nbg-{d}" for d in names], "meta_features": [nbg_meta_features(d) for d in names]})
    trials = pd.DataFrame({"task": tasks["task"], "space_id": "graph", "arch_id": "1", "value": 0.5, "mode": "max"})
    return trials, tasks


def test_meta_features_alone_and_what_weighs(nbg_meta):
    trials, tasks = nbg_meta
    near = similar_tasks(tasks, trials, nbg_meta_features("cora"), None, k=3, exclude="nbg-cora")
    assert near["task"].iloc[0] == "nbg-citeseer"  # the closest in size, classes and degree
    assert near["landmark_distance"].isna().all() and (near["n_meta"] == 5).all()
    shares = near.filter(like="meta:").to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert "differ most" in near["why"].iloc[0]
    from nasbook.tasks import NasBenchGraph

    assert task_meta_features(NasBenchGraph("pubmed"))["n_classes"] == 3


def test_landmark_table_orients_min_tasks():
    trials = pd.DataFrame({"task": ["a", "a", "b", "b"], "space_id": "s", "arch_id": ["x", "y", "x", "y"],
                           "value": [1.0, 2.0, 1.0, 2.0], "mode": ["max", "max", "min", "min"]})
    table = landmark_table(trials, ["x", "y"])
    assert table.loc["a"].tolist() == [1.0, 2.0] and table.loc["b"].tolist() == [-1.0, -2.0]


def test_a_task_with_nothing_to_compare_is_refused(nbg_meta):
    trials, tasks = nbg_meta
    with pytest.raises(InvalidParameterError, match="no meta-features and no landmarks"):
        similar_tasks(tasks, trials, {}, {}, k=3)
    with pytest.raises(InvalidParameterError, match="no meta-features and no landmarks"):
        similar_tasks(tasks, trials, {"name": "text only"}, None, k=3)
    with pytest.raises(InvalidParameterError, match="k"):
        similar_tasks(tasks, trials, nbg_meta_features("cora"), None, k=0)
    with pytest.raises(InvalidParameterError, match="weights"):
        similar_tasks(tasks, trials, nbg_meta_features("cora"), None, k=2, weights=(0, 0))
    with pytest.raises(InvalidParameterError, match="at least 2"):
        cluster_tasks(tasks.iloc[:1], trials[trials["task"] == tasks["task"].iloc[0]])


def test_task_distances_rows_are_similar_tasks_answers(nbg_meta):
    # the matrix "behind similar_tasks" must give what similar_tasks gives a recorded task: each row's features are
    # standardised over every task once (its own task counted twice skewed them: up to 0.011 apart here, and
    # cora-proteins 0.735 against similar_tasks' 0.747 in tutorial 6)
    trials, tasks = nbg_meta
    dist = task_distances(tasks, trials, probes=[])
    for name in ("nbg-cora", "nbg-arxiv", "nbg-physics"):
        meta = tasks.set_index("task").loc[name, "meta_features"]
        near = similar_tasks(tasks, trials, meta, None, k=10, exclude=name).set_index("task")["distance"]
        np.testing.assert_allclose(dist.loc[name, near.index].to_numpy(), near.to_numpy(), rtol=1e-12)
