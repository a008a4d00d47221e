"""``nasbook report -o FILE`` is a usage error (exit 2, one line naming --output-dir), found before a kernel
starts (outside probe 5: a raw FileExistsError, exit 1, as if the notebook had failed)."""
from nasbook.cli import main


def test_report_refuses_an_output_dir_that_is_a_file(tmp_path, capsys):
    nb = tmp_path / "n.ipynb"
    nb.write_text('{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}')
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "below"):
        assert main(["report", str(nb), "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--output-dir" in err[0] and "must be a folder" in err[0] and "FileExistsError" not in err[0]
    assert afile.read_text() == "x"
