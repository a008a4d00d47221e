"""The CLI's exit status does not change with ``--traceback`` (before or after the command), ``:memory:``
stores get no advice to resume or show what they do not keep, and ``report -t`` refuses a limit <= 0
(outside probe 4: ``benchmarks/outside_probe4.py``, part cli)."""
import os
import signal
import subprocess
import sys
import time

from nasbook.cli import main


def test_traceback_keeps_the_exit_status_and_is_taken_after_the_command(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert main(["search", "--budget", "2", "--storage", db, "--name", "a", "--quiet"]) == 0
    capsys.readouterr()
    for argv in (["--traceback", "show", "nope", "--storage", db], ["show", "nope", "--storage", db, "--traceback"]):
        assert main(argv) == 2  # a usage error stays 2 (it re-raised: Python's 1)
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and err.rstrip().splitlines()[-1].startswith("nasbook: error: No search named")
    assert main(["show", "nope", "--storage", db]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_memory_stores_are_said_to_keep_nothing(capsys):
    assert main(["search", "--storage", ":memory:", "--budget", "2", "--seed", "436", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "--resume" not in out and "storage: :memory: (in memory: not kept after this command" in out
    assert main(["show", "m", "--storage", ":memory:"]) == 2
    assert ":memory: is a store in memory, new and empty in each command" in capsys.readouterr().err
    assert main(["list", "--storage", ":memory:"]) == 0
    assert "new and empty in each command" in capsys.readouterr().out


def test_ctrl_c_on_a_memory_store_names_no_resume():
    # Ctrl-C as in a terminal: SIGINT at its default, which Python turns into KeyboardInterrupt. A process started
    # in the background by a non-interactive shell (CI's runner, nohup) inherits SIGINT ignored, and so would
    # this child: it then ran all 26,206 architectures and exited 0.
    p = subprocess.Popen([sys.executable, "-m", "nasbook", "search", "--storage", ":memory:", "--budget", "100000",
                          "--strategy", "random", "--seed", "437"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = b""
    while b"trial" not in seen:  # the progress bar's first draw: the search runs
        chunk = os.read(p.stderr.fileno(), 1024)
        assert chunk, seen
        seen += chunk
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    last = (seen + err).decode().replace("\r", "\n").strip().splitlines()[-1]
    assert p.returncode == 130
    assert last.startswith("nasbook: interrupted after") and "--resume" not in last and "not kept" in last


def test_report_refuses_a_timeout_of_zero_or_less(tmp_path, capsys):
    nb = tmp_path / "n.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    for t in ("0", "-5"):
        assert main(["report", str(nb), "-t", t, "-o", str(tmp_path / "r")]) == 2
        assert "--timeout must be seconds > 0" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
