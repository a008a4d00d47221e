"""KnowledgeBase.similar / similar_tasks / cluster_tasks / landmarks: the similarity functions wired to the store."""

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError, NasbookError
from nasbook.knowledge import nbg_meta_features
from nasbook.space import CellSpace
from nasbook.tasks import NasBenchGraph

DATASETS = ("cora", "citeseer", "pubmed", "photo")


@pytest.fixture(scope="module")
def kb():
    kb = nasbook.KnowledgeBase(":memory:")
    for d in DATASETS:
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=40, seed=1, kb=kb, name=f"r-{d}").run(progress="none")
        kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    return kb


def test_similar_returns_exactly_k_recorded_neighbours_without_the_query(kb):
    trials = kb.trials(task="nbg-cora")
    space = NasBenchGraph("cora").space
    query = space.make(**trials.iloc[0]["arch"])
    out = kb.similar(query, 7)  # without task=: one row per (neighbour, task it has a value on)
    assert out["arch_id"].nunique() == 7 and query.id not in set(out["arch_id"])
    assert (np.diff(out["distance"].to_numpy()) >= 0).all()
    assert set(out["arch_id"]) <= set(kb.trials()["arch_id"])
    recorded = kb.trials().groupby(["arch_id", "task"])["value"].mean()
    assert out["value"].notna().all()
    assert out["value"].tolist() == pytest.approx([recorded[(a, t)] for a, t in zip(out["arch_id"], out["task"])])


def test_similar_given_a_spec_from_trials_says_how_to_make_the_architecture(kb):
    row = kb.trials(task="nbg-cora").iloc[0]
    with pytest.raises(TypeError, match=r"kb.space\(row.space_id\).make\(\*\*row.arch\)"):
        kb.similar(row["arch"], 3)
    assert kb.similar(kb.space(row["space_id"]).make(**row["arch"]), 3)["arch_id"].nunique() == 3


def test_similar_on_a_task_reports_the_value_recorded_there(kb):
    space = NasBenchGraph("cora").space
    query = space.make(**kb.trials(task="nbg-cora").iloc[3]["arch"])
    out = kb.similar(query, 5, task="nbg-pubmed")
    recorded = kb.trials(task="nbg-pubmed").groupby("arch_id")["value"].mean()
    assert len(out) == 5
    for arch_id, value in zip(out["arch_id"], out["value"]):
        assert value == pytest.approx(recorded[arch_id])


def test_similar_refuses_an_architecture_of_a_space_the_base_never_saw(kb):
    arch = CellSpace().sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="never been seen"):
        kb.similar(arch, 3)


def test_landmarks_of_a_new_task_are_measured_stored_and_drive_similar_tasks(kb):
    arxiv = NasBenchGraph("arxiv")
    marks = kb.measure_landmarks(arxiv, n=8)
    assert len(marks) == 8 and kb.landmarks(arxiv) == pytest.approx(marks)
    assert kb.meta_features(arxiv)["n_classes"] == 40  # stored alongside, since none were
    near = kb.similar_tasks(arxiv, 3)
    assert len(near) == 3 and "nbg-arxiv" not in set(near["task"])
    assert near["why"].str.contains("landmarks").all()
    assert (np.diff(near["distance"].to_numpy()) >= 0).all()


def test_similar_tasks_of_a_recorded_task_leaves_it_out_and_clusters_cover_every_task(kb):
    near = kb.similar_tasks("nbg-cora", 2)
    assert "nbg-cora" not in set(near["task"]) and len(near) == 2
    clusters = kb.cluster_tasks()
    assert set(clusters["task"]) == set(kb.tasks["task"])


def test_similar_tasks_of_a_task_without_meta_features_or_landmarks_says_what_to_add():
    kb = nasbook.KnowledgeBase(":memory:")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=10, seed=0, kb=kb, name="c").run(progress="none")
    nasbook.Search(NasBenchGraph("pubmed"), strategy="random", budget=10, seed=5, kb=kb, name="p").run(progress="none")
    with pytest.raises(NasbookError, match="share no meta-feature.*kb.measure_landmarks"):  # no architecture in common
        kb.similar_tasks("nbg-cora", 1)


def test_similar_tasks_of_a_recorded_task_uses_its_trials_as_task_distances_does():
    # three tasks searched on the same architectures and nothing stored by hand: the task map
    # (task_distances, cluster_tasks) compares them by their trials, and similar_tasks must too
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer", "pubmed"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=20, seed=1, kb=kb, name=f"r-{d}").run(progress="none")
    dist = kb.task_distances()
    for query in ("nbg-cora", NasBenchGraph("cora")):
        near = kb.similar_tasks(query, 2).set_index("task")
        assert set(near.index) == {"nbg-citeseer", "nbg-pubmed"}
        for task, row in near.iterrows():
            assert row["distance"] == pytest.approx(dist.loc["nbg-cora", task])


def test_a_task_measured_on_the_probes_but_never_searched_is_placed_by_its_landmarks_too():
    # measure_landmarks stores a new task's landmarks; the task map (task_distances) must use them as
    # similar_tasks does, not place the task by its meta-features alone
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer", "pubmed"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=30, seed=1, kb=kb, name=f"r-{d}").run(progress="none")
        kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    photo = NasBenchGraph("photo")
    kb.measure_landmarks(photo, probes=kb.probes(8))
    near = kb.similar_tasks(photo, 3).set_index("task")
    assert near["landmark_distance"].notna().all()
    dist = kb.task_distances(n_probes=8)
    for task, row in near.iterrows():  # equal but for the meta-features' standardisation over the tasks compared
        assert dist.loc["nbg-photo", task] == pytest.approx(row["distance"], abs=0.01)


def test_similar_and_warm_start_work_in_a_space_of_your_own():
    from nasbook.space import ChainSpace
    from nasbook.testing import ToyTask

    class LabChains(ChainSpace):  # a researcher's space: nasbook cannot rebuild it from its stored configuration
        def __init__(self, max_depth=3):
            super().__init__(kind="mlp", max_depth=max_depth, widths=(8, 16), ops=("relu", "tanh"))

    space = LabChains()
    kb = nasbook.KnowledgeBase(":memory:")
    for seed in (1, 2):
        nasbook.Search(space, ToyTask(space, seed=seed), strategy="random", budget=15, seed=seed, storage=":memory:",
                       kb=kb, name=f"lab-{seed}").run(progress="none")
    query = space.sample(np.random.default_rng(0))
    out = kb.similar(query, 4)  # encodes the recorded architectures with the space in memory
    assert len(out) == 4 and (np.diff(out["distance"].to_numpy()) >= 0).all()
    assert kb.space(space.space_id) is space
    warm = nasbook.Search(space, ToyTask(space, seed=3), budget=6, seed=0, storage=":memory:", kb=kb,
                          warm_start=True).run(progress="none")
    assert any("warm_start_rank" in t.attrs for t in warm.trials)


def test_a_space_of_your_own_that_is_not_in_memory_is_an_error_that_says_to_create_it(tmp_path):
    import gc
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "kb.db"
    script = textwrap.dedent(f"""
        import nasbook
        from nasbook.space import ChainSpace
        from nasbook.testing import ToyTask
        class LabChains(ChainSpace):
            def __init__(self):
                super().__init__(kind="mlp", max_depth=2, widths=(8, 16), ops=("relu",))
        space = LabChains()
        kb = nasbook.KnowledgeBase({str(path)!r})
        nasbook.Search(space, ToyTask(space), budget=5, seed=0, storage=":memory:", kb=kb).run(progress="none")
        print(space.space_id)
    """)
    space_id = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()[-1]
    gc.collect()
    with pytest.raises(NasbookError, match=r"'LabChains'.*create that space in this process first"):
        nasbook.KnowledgeBase(path).space(space_id)


def test_landmarks_of_a_training_task_are_trained_in_the_probes_recorded_space():
    # a training task fixes no space (Digits.space is None): the probes are built in the space the base
    # recorded them in, or in space=...; a probe of a space the base never saw asks for space=
    from nasbook.tasks import Digits, DigitsTable

    kb = nasbook.KnowledgeBase(":memory:")
    nasbook.Search(DigitsTable(), strategy="random", budget=12, seed=1, kb=kb, name="table").run(progress="none")
    digits = Digits(max_epochs=1, batch_size=256)
    assert digits.space is None
    probes = kb.probes(2)
    marks = kb.measure_landmarks(digits, probes=probes)
    assert set(marks) == {a.id for a in probes} and all(0.0 <= v <= 1.0 for v in marks.values())
    assert kb.landmarks(digits) == pytest.approx(marks)
    assert kb.meta_features(digits)["n_classes"] == 10
    again = kb.measure_landmarks(digits, probes=probes[:1], space=DigitsTable().space)  # the same space, given
    assert again == pytest.approx({probes[0].id: marks[probes[0].id]})
    foreign = NasBenchGraph("cora").space.sample(np.random.default_rng(100))
    with pytest.raises(InvalidParameterError, match=r"not recorded in this base; pass space="):
        kb.measure_landmarks(digits, probes=[foreign])
