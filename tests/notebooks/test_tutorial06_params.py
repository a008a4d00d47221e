"""Tutorial 06 with parameters other than its defaults: another held-out dataset, a budget under its warm start.

Before, `held_out="cora"` failed in section 2 (it looked around cora's best, which is then not in the knowledge
base), a budget under 10 failed with `KeyError: 'evaluations'` (no regret checkpoint) and in exercise 3 (ten warm
trials asserted), and `held_out="proteins"` failed deep inside with an op name error."""

from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[2] / "tutorials" / "06_searches_that_remember.ipynb"
pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _run(tmp_path, **params):  # noqa: ANN003, ANN202
    import papermill as pm

    params = {"storage": str(tmp_path / "kb.db"), "past_budget": 10, "n_seeds": 1, **params}
    out = tmp_path / TUTORIAL.name
    return pm.execute_notebook(str(TUTORIAL), str(out), parameters=params, cwd=str(tmp_path), kernel_name="python3",
                               progress_bar=False)


def test_cora_held_out_with_a_budget_under_the_warm_start(tmp_path):
    nb = _run(tmp_path, held_out="cora", budget=3)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "on citeseer" in text  # section 2 looked around another past task's best
    assert "the first 3 trials are the warm start" in text


def test_proteins_held_out_is_refused_in_one_line_naming_the_parameter(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match=r"held_out must be one of \[.*'cora'.*\]; got 'proteins'"):
        _run(tmp_path, held_out="proteins", budget=12)
