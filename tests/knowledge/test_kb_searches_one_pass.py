"""``kb.searches`` and ``Storage.list_searches`` against the top-fidelity rule computed trial by trial, on
SQLite and PostgreSQL: ties (to the first trial written), min-mode searches, trials without epochs, failed,
NaN and infinite values, a search whose trials do not count, several rungs."""

import math

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook.space import CellSpace

SPACE = CellSpace(n_nodes=4)


def _expected(rows, mode):
    """(value, arch_id, epochs) of the best by the rule, over rows in the order written; None if none counts."""
    counted = [r for r in rows if r["state"] == "complete" and math.isfinite(r["value"])]
    tops = [r["epochs"] for r in counted if r["epochs"] is not None]
    top = max(tops) if tops else None
    best = None
    for r in counted:
        if r["epochs"] is not None and r["epochs"] != top:
            continue
        if best is None or (r["value"] < best["value"] if mode == "min" else r["value"] > best["value"]):
            best = r
    return None if best is None else (best["value"], best["arch_id"], best["epochs"])


def _rows(rng, pool, n, epochs_choices):
    out = []
    for i in range(n):
        arch = pool[int(rng.integers(len(pool)))]
        value = float(rng.choice([0.1, 0.2, 0.3, 0.3, -0.3, 0.0, math.inf, -math.inf]))
        state = "failed" if rng.random() < 0.1 else "complete"
        epochs = epochs_choices[int(rng.integers(len(epochs_choices)))]
        out.append({"arch": arch.to_dict(), "arch_id": arch.id, "value": value if state == "complete" else math.nan,
                    "state": state, "number": i, **({} if epochs is None else {"epochs": epochs})})
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_every_search_best_is_the_rule_applied_trial_by_trial(url, seed):
    rng = np.random.default_rng(seed)
    pool = list({a.id: a for a in (SPACE.sample(rng) for _ in range(12))}.values())
    shapes = [[None], [1], [1, 3, 9], [None, 1, 3], [None, None, 3], [9, 9, 1]]
    expected, sizes = {}, {}
    with nasbook.KnowledgeBase(url) as kb:
        for i in range(12):
            mode = "min" if i % 3 == 1 else "max"
            rows = _rows(rng, pool, int(rng.integers(1, 40)), shapes[i % len(shapes)])
            kb.ingest([{k: v for k, v in r.items() if k != "arch_id"} for r in rows], task=f"t{i}", space=SPACE,
                      name=f"s{i}", mode=mode)
            expected[f"s{i}"] = _expected([{**r, "epochs": r.get("epochs")} for r in rows], mode)
            sizes[f"s{i}"] = len(rows)
        kb.ingest([{"arch": pool[0].to_dict(), "value": math.nan, "state": "failed", "number": 0}],
                  task="t-none", space=SPACE, name="s-none")  # nothing counts
        expected["s-none"], sizes["s-none"] = None, 1
        df = kb.searches.set_index("search")
        got = {name: None if pd.isna(df.loc[name, "best"]) else
               (df.loc[name, "best"], df.loc[name, "best_arch_id"],
                None if pd.isna(df.loc[name, "best_epochs"]) else int(df.loc[name, "best_epochs"]))
               for name in expected}
        listed = {r.name: (r.n_trials, r.best_value) for r in kb.storage.list_searches()}
    assert got == expected
    assert listed == {name: (sizes[name], None if e is None else e[0]) for name, e in expected.items()}
    assert sum(e is not None and e[2] is None for e in expected.values()) >= 1  # a best without epochs was tested

