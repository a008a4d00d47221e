"""Every notebook and tutorial runs top to bottom with small parameters (papermill)."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("tutorials/*.ipynb")])
SMALL = {"budget": 12, "epoch_budget": 45, "n_seeds": 3, "seed": 0, "max_epochs": 1, "sizes": [20, 50]}
#: an object's default repr (`<torch._C.Generator at 0x7f...>`) printed at the student: noise, not a result
ADDRESS_REPR = re.compile(r"<[\w.]+(?: object)? at 0x[0-9a-f]+>")
#: notebooks that run in a few seconds stay in the default run; the rest (10-35 s each: Lightning
#: training, dask clusters, many searches) run with `pytest -m slow`, which CI runs too
FAST = {"tutorials/01_random_vs_evolution"}


def _case(path: Path):  # noqa: ANN202
    name = f"{path.parent.name}/{path.stem}"
    return pytest.param(path, id=name, marks=() if name in FAST else (pytest.mark.slow,))


def parameter_names(nb) -> set[str]:  # noqa: ANN001
    """The names the notebook's 'parameters' cell assigns (papermill warns of any other name it is passed)."""
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def small_parameters(nb) -> dict:  # noqa: ANN001
    """The :data:`SMALL` values of the parameters this notebook has (by name: `epoch_budget` is not `budget`)."""
    return {k: v for k, v in SMALL.items() if k in parameter_names(nb)}


def test_small_parameters_are_names_of_the_parameters_cell():
    # `epoch_budget = 150` once matched "budget =": papermill then warned "Passed unknown parameter: budget"
    # and the notebook ran at its full epoch budget
    nb = nbformat.read(ROOT / "notebooks/multi_fidelity.ipynb", as_version=4)
    assert small_parameters(nb) == {"epoch_budget": 45, "seed": 0}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert set(small_parameters(nb)) <= parameter_names(nb), path.name


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
    params = small_parameters(nb)
    if "storage" in parameter_names(nb):
        params["storage"] = str(tmp_path / "nb.db")
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(tmp_path), kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors
    # nothing printed at the student but results: no warning on stderr, no object's default repr
    stderr = [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not [t for t in stderr if "Warning" in t], stderr
    plain = [o.get("data", {}).get("text/plain", "") for o in outputs if o.get("output_type") in ("execute_result", "display_data")]
    plain += [o["text"] for o in outputs if o.get("output_type") == "stream"]
    assert not [t for t in plain if ADDRESS_REPR.search(t)], [ADDRESS_REPR.search(t).group() for t in plain if ADDRESS_REPR.search(t)]
