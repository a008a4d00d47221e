import subprocess
import sys

from nasbook.cli import main


def test_cli_search_prints_result_and_resumes(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    assert main(["search", "--dataset", "citeseer", "--budget", "30", "--seed", "0", "--storage", db, "--name", "c", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "best trial" in out and "test_accuracy" in out and "regret" in out and "30 complete" in out
    assert main(["search", "--resume", "c", "--budget", "40", "--storage", db, "--quiet"]) == 0
    assert "40 complete" in capsys.readouterr().out
    assert main(["show", "c", "--storage", db]) == 0


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["search", "--dataset", "coraa", "--storage", str(tmp_path / "e.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasbook: error: Unknown NAS-Bench-Graph dataset 'coraa'") and "Traceback" not in err


def test_console_script_entry_point(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nasbook", "search", "--budget", "5", "--quiet", "--storage", str(tmp_path / "m.db")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "5 complete" in out
