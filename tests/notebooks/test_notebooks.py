"""Every notebook and tutorial runs top to bottom with small parameters (papermill)."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("tutorials/*.ipynb")])
SMALL = {"budget": 12, "n_seeds": 3, "seed": 0, "max_epochs": 1, "sizes": [20, 50]}
#: notebooks that run in a few seconds stay in the default run; the rest (10-35 s each: Lightning
#: training, dask clusters, many searches) run with `pytest -m slow`, which CI runs too
FAST = {"tutorials/01_random_vs_evolution"}


def _case(path: Path):  # noqa: ANN202
    name = f"{path.parent.name}/{path.stem}"
    return pytest.param(path, id=name, marks=() if name in FAST else (pytest.mark.slow,))


def test_there_are_notebooks_and_each_has_a_parameters_cell():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


@pytest.mark.notebook
@pytest.mark.parametrize("path", [_case(p) for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    import papermill as pm

    nb = nbformat.read(path, as_version=4)
    params_cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    params = {k: v for k, v in SMALL.items() if f"{k} =" in params_cell.source}
    if "storage =" in params_cell.source:
        params["storage"] = str(tmp_path / "nb.db")
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(tmp_path), kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
