"""benchmarks/strategies_tables.py's nearest-member variant keeps SubsetSpace's own moves working: its
cache of member codes must not shadow ``SubsetSpace._member_codes`` (the 1k command failed on it)."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def strategies_tables(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import strategies_tables

    return strategies_tables


def test_nearest_variant_maps_non_members_and_still_mutates(strategies_tables):
    space = strategies_tables.nearest_space("mnist1d")
    parent = space.space
    rng = np.random.default_rng(0)
    members = set(space.ids)
    outside = next(a for a in (parent.sample(rng) for _ in range(1000)) if a.id not in members)

    # the variant's suggest maps a non-member parent architecture to a member (and fills its cache);
    # the parent's suggest is made to return that non-member whatever Optuna would choose
    original = parent.suggest
    try:
        parent.suggest = lambda choose: outside  # type: ignore[method-assign]
        got = space.suggest(None)
    finally:
        parent.suggest = original  # type: ignore[method-assign]
    assert got.id in members
    # SubsetSpace's moves, which use its own member codes, still work after the cache is filled
    child = space.mutate(space.members[0], np.random.default_rng(1))
    assert child.id in members
    assert all(n.id in members for n in space.neighbours(space.members[3]))


def test_portfolio_alone_with_hedge_options_writes_its_json(tmp_path):
    """Probes run the Portfolio without single methods: no best single method to rank, and the options reach it."""
    import json
    import subprocess
    import sys

    out = tmp_path / "p.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "strategies_tables.py"), "--tables", "mnist1d",
                          "--methods", "portfolio", "--seeds", "1", "--budget", "12", "--checkpoints", "10",
                          "--hedge-distinct", "yes", "--hedge-reward", "round", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "best single method" not in res.stdout
    raw = json.loads(out.read_text())["raw"]["mnist1d"]["portfolio"]
    assert len(raw) == 1 and set(raw[0]["regret_at"]) == {"10", "12"}  # the budget is always a checkpoint
