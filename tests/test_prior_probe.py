"""benchmarks/prior_probe.py's knowledge-base size options (section 11w-prior5): more past searches
of the same strategies with new seeds, each cut to its first trials, and bad values named."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _probe():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import prior_probe
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return prior_probe


@pytest.mark.parametrize("bad", [("--past-trials", "200"), ("--past-trials", "2"), ("--past-searches", "0"),
                                 ("--past-skip", "-1")])
def test_bad_sizes_are_refused_naming_the_option(tmp_path, bad):
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "prior_probe.py"), "--store", str(tmp_path / "s.db"),
                          "--cache", str(tmp_path / "c"), "--json", str(tmp_path / "o.json"), *bad],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert f"{bad[0]} must" in res.stderr and f"got {bad[1]}" in res.stderr
    assert not (tmp_path / "s.db").exists()  # refused before any search ran


def test_store_size_tags_and_the_cut_searches(tmp_path):
    pp = _probe()
    assert pp.store_tag() == "" and pp.store_tag(1, 150) == ""
    assert pp.store_tag(2, 150) == "_s2t150" and pp.store_tag(1, 75) == "_s1t75"
    assert pp.store_tag(1, 150, 1) == "_s1t150o1"
    assert pp.cache_file("c", "cora", "rf", "_s2t150").endswith("prior_cora_s2t150.npz")
    store = str(tmp_path / "past.db")
    full = pp.past_table(store)
    assert full["search"].nunique() == 18 and (full.groupby("search").size() == 150).all()
    two = pp.past_table(store, searches=2, trials=10)
    sizes = two.groupby("search").size()
    assert len(sizes) == 36 and (sizes == 10).all()
    assert {"past-cora-evolution", "past-cora-evolution-s1001"} <= set(sizes.index)
    # a cut search is the same search's first trials
    first = full[full["search"] == "past-cora-evolution"]["arch_id"].tolist()[:10]
    assert two[two["search"] == "past-cora-evolution"]["arch_id"].tolist() == first
    # the new seed's searches are other searches
    assert set(two[two["search"] == "past-cora-random-s1001"]["arch_id"]) != set(
        two[two["search"] == "past-cora-random"]["arch_id"])
    # another knowledge base of the same size: the next seeds' searches only
    other = pp.past_table(store, searches=1, trials=10, skip=1)
    assert set(other["search"]) == {n for n in sizes.index if n.endswith("-s1001")}
