"""``nasbook report -p``: a value whose type does not fit the default in the notebook's parameters cell is refused
before any kernel starts (exit 2, one line naming the parameter, the kind allowed and the value received).

Before (probe 11), only text for a number or a flag was refused: ``-p budget 12.5`` (quickstart's ``budget = 100``),
``-p budget true`` or ``-p sizes 50`` (tutorial 04's ``sizes = [20, 50, 100, 200]``) started a kernel and failed in a
later cell, exit 1 ("it ran and failed")."""

import nbformat
import pytest

from nasbook._errors import InvalidParameterError
from nasbook._report import check_parameter_types
from nasbook.cli import main

pytest.importorskip("papermill")

SOURCE = "budget = 100\nlr = 0.5\nverbose = False\nsizes = [20, 50]\nopts = {'a': 1}\nname = 'cora'\nwhat = None\n"


def _notebook(path):  # noqa: ANN001, ANN202
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(SOURCE)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("raise ValueError('the notebook ran')")]
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(("name", "value", "says"), [
    ("budget", "12.5", "-p budget 12.5: p.ipynb's budget must be an int (its default is 100); got 12.5 (float)."),
    ("budget", "true", "budget must be an int (its default is 100); got true (bool)."),
    ("budget", "[1, 2]", "budget must be an int (its default is 100); got [1, 2] (list)."),
    ("lr", "false", "lr must be a number (its default is 0.5); got false (bool)."),
    ("verbose", "1", "verbose must be true or false (its default is False); got 1 (int)."),
    ("sizes", "50", "sizes must be a JSON list such as [1, 2] (its default is [20, 50]); got 50 (int)."),
    ("sizes", "[20, 50", "sizes must be a JSON list such as [1, 2] (its default is [20, 50]); got the text '[20, 50'."),
    ("opts", "[1]", "opts must be a JSON object"),
])
def test_a_value_that_does_not_fit_the_default_is_refused_before_a_kernel_starts(tmp_path, capsys, name, value, says):
    nb = _notebook(tmp_path / "p.ipynb")
    out = tmp_path / "o"
    assert main(["report", str(nb), "-p", name, value, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasbook: error: ") and says in err and len(err.strip().splitlines()) == 1, err
    assert not (out / "p.ipynb").exists()  # refused before a kernel ran the notebook


@pytest.mark.parametrize("params", [{"lr": 1}, {"lr": 0.25}, {"budget": 7}, {"verbose": True}, {"sizes": [10]},
                                    {"opts": {}}, {"name": 5}, {"name": [1]}, {"what": 3}, {"what": "x"},
                                    {"budget": None}])
def test_values_that_fit_pass_the_check_unchanged(params):
    assert check_parameter_types("nb.ipynb", SOURCE, params) == params


def test_a_whole_float_for_an_int_default_is_read_as_the_int():
    checked = check_parameter_types("nb.ipynb", SOURCE, {"budget": 12.0})
    assert checked == {"budget": 12} and type(checked["budget"]) is int


def test_the_check_itself_raises_a_nasbook_error_naming_the_parameter():
    with pytest.raises(InvalidParameterError, match=r"budget must be an int \(its default is 100\); got 12.5 \(float\)"):
        check_parameter_types("nb.ipynb", SOURCE, {"budget": 12.5})
