"""Notebooks with parameters other than the tests' small ones and their defaults (outside-evaluator probe 11).

A value out of range is refused in the notebook's first code cell, in one line naming the parameter. Before:
multi_fidelity's `epoch_budget` under one full training (9 epochs) failed in the first search cell with
`AttributeError: 'NoneType' object has no attribute 'value'` (and 0 with a message naming `budget epochs`);
tutorial 00's `n_samples=0` failed with an IndexError in section 3 and `dataset="proteins"` with a bare
AssertionError in exercise 2 (its 5-op table is not the 9-op GraphSpace section 7 compares); tutorial 01's
`n_seeds=0` failed in section 3 with "compare_info() needs at least one search"; tutorial 03's `eta=1` hung its
kernel in `rung_epochs` until memory ran out; tutorial 06's `past_budget=2` failed in section 3 with "attempt to
get argmax of an empty sequence"; tutorial 07's `blend_epochs=0` with "AlphaSchedule(length=...)"."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _refused(tmp_path, rel, params, says):  # noqa: ANN001, ANN202
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path = ROOT / rel
    out = tmp_path / path.name
    with pytest.raises(PapermillExecutionError) as info:
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(tmp_path), kernel_name="python3",
                            progress_bar=False, execution_timeout=120)
    assert info.value.ename == "ValueError" and says in info.value.evalue, info.value.evalue
    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(code) if "injected-parameters" in c.metadata.get("tags", []))
    failed = next(i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    assert failed == at + 1  # the first code cell after the parameters: before any search or training


@pytest.mark.parametrize(("rel", "params", "says"), [
    ("notebooks/multi_fidelity.ipynb", {"epoch_budget": 5}, "epoch_budget must be an int >= 9 (one full training); got 5"),
    ("notebooks/multi_fidelity.ipynb", {"epoch_budget": 0}, "epoch_budget must be an int >= 9"),
    ("tutorials/00_what_is_nas.ipynb", {"n_samples": 0}, "n_samples must be an int >= 1; got 0"),
    ("tutorials/00_what_is_nas.ipynb", {"dataset": "proteins"}, "dataset must be one of ["),
    ("tutorials/01_random_vs_evolution.ipynb", {"n_seeds": 0}, "n_seeds must be an int >= 1"),
    ("tutorials/06_searches_that_remember.ipynb", {"past_budget": 2, "budget": 3, "n_seeds": 1},
     "past_budget must be an int >= 10"),
    ("tutorials/07_growing_networks.ipynb", {"blend_epochs": 0}, "blend_epochs must be an int >= 1; got 0"),
], ids=["mf-epoch_budget-5", "mf-epoch_budget-0", "00-n_samples-0", "00-proteins", "01-n_seeds-0", "06-past_budget-2",
        "07-blend_epochs-0"])
def test_an_out_of_range_parameter_is_refused_in_the_first_code_cell(tmp_path, rel, params, says):
    if rel.startswith("tutorials/06"):
        params = {**params, "storage": str(tmp_path / "kb.db")}
    _refused(tmp_path, rel, params, says)


def test_tutorial03_eta_1_is_refused_naming_eta_instead_of_hanging(tmp_path):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path = ROOT / "tutorials" / "03_multi_fidelity.ipynb"
    with pytest.raises(PapermillExecutionError, match=r"rung_epochs\(eta=\.\.\.\) must be an int >= 2; got 1"):
        pm.execute_notebook(str(path), str(tmp_path / path.name), parameters={"eta": 1, "budget": 3, "n_seeds": 1},
                            cwd=str(tmp_path), kernel_name="python3", progress_bar=False, execution_timeout=60)
