import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_cli_every_option_has_help():
    from nasbook.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest != "help":
                assert action.help, f"`nasbook {name}` option {action.option_strings or action.dest} has no help"


def test_cli_list_and_show_without_name_list_searches(tmp_path, capsys):
    db = str(tmp_path / "l.db")
    assert main(["search", "--dataset", "cora", "--budget", "5", "--seed", "0", "--storage", db, "--name", "one", "--quiet"]) == 0
    assert main(["search", "--dataset", "pubmed", "--strategy", "random", "--budget", "3", "--storage", db, "--name", "two", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"--resume one --storage {db}" in out  # the resume hint names the real storage
    for argv in (["list", "--storage", db], ["show", "--storage", db]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "2 searches" in out and "one" in out and "two" in out and "evolution" in out and "random" in out
        # the task column tells a cora search from a pubmed one (not "NasBenchGraph" for both)
        assert "nbg-cora" in out and "nbg-pubmed" in out


def test_cli_list_of_a_missing_file_creates_nothing(tmp_path, capsys):
    assert main(["list", "--storage", str(tmp_path / "typo.db")]) == 2
    assert "typo.db" in capsys.readouterr().err and not (tmp_path / "typo.db").exists()


def test_cli_runtime_errors_exit_1_in_one_line_and_usage_errors_2(tmp_path, capsys, monkeypatch):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    for argv in (["show", "s", "--storage", str(junk)], ["list", "--storage", str(junk)]):
        assert main(argv) == 1  # a StorageError: it ran and failed, not a mistyped command
        err = capsys.readouterr().err
        assert err.startswith("nasbook: error: storage") and "not a SQLite database" in err and err.count("\n") == 1
    db = str(tmp_path / "ok.db")
    assert main(["search", "--budget", "2", "--storage", db, "--name", "s", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["show", "typo", "--storage", db]) == 2  # an unknown search: an argument refused
    assert main(["search", "--budget", "2", "--storage", db, "--name", "s", "--quiet"]) == 2  # a name taken
    capsys.readouterr()

    def broken(*args, **kwargs):
        raise OSError("disk on fire\nsecond line")

    monkeypatch.setattr("nasbook.storage.open_storage", broken)
    assert main(["list", "--storage", db]) == 1  # not nasbook's own error: its type, still one line
    assert capsys.readouterr().err == "nasbook: error: OSError: disk on fire second line (--traceback shows where)\n"
    assert main(["--traceback", "list", "--storage", db]) == 1  # the traceback too, and the same status
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "OSError: disk on fire" in err


def test_cli_ctrl_c_stops_with_a_resume_hint_not_a_traceback(tmp_path, capsys, monkeypatch):
    from nasbook.search._search import Search

    finish = Search._finish

    def interrupted_after_5(self, trial, pbar, **kw):  # Ctrl-C arriving during the 6th trial's commit
        if self.n_trials == 5:
            raise KeyboardInterrupt
        finish(self, trial, pbar, **kw)

    db = str(tmp_path / "i.db")
    monkeypatch.setattr(Search, "_finish", interrupted_after_5)
    assert main(["search", "--budget", "20", "--seed", "0", "--storage", db, "--name", "i", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err == f"nasbook: interrupted after 5 trials; resume with: nasbook search --resume i --storage {db}\n"
    monkeypatch.setattr(Search, "_finish", finish)
    assert main(["search", "--resume", "i", "--storage", db, "--quiet"]) == 0
    assert "20 complete" in capsys.readouterr().out


def test_cli_resume_refuses_options_it_would_ignore(tmp_path, capsys):
    db = str(tmp_path / "r.db")
    assert main(["search", "--budget", "5", "--seed", "0", "--storage", db, "--name", "r", "--quiet"]) == 0
    capsys.readouterr()
    # the stored search is evolution on cora: a resume that names another dataset or strategy must not run it silently
    assert main(["search", "--resume", "r", "--dataset", "pubmed", "--strategy", "random", "--budget", "8",
                 "--storage", db, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasbook: error: --dataset, --strategy cannot be combined with --resume")
    assert main(["show", "r", "--storage", db]) == 0
    assert "5 complete" in capsys.readouterr().out  # nothing ran


def test_cli_version_and_closed_pipe(tmp_path):
    import nasbook

    out = subprocess.run([sys.executable, "-m", "nasbook", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"nasbook {nasbook.__version__}"
    db = str(tmp_path / "p.db")
    assert main(["search", "--budget", "5", "--seed", "0", "--storage", db, "--name", "p", "--quiet"]) == 0
    # a reader that leaves at once (`nasbook show p | head -0`): no BrokenPipeError traceback
    proc = subprocess.Popen([sys.executable, "-m", "nasbook", "show", "p", "--storage", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(60)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert proc.returncode == 141  # the status README and `nasbook --help` give a closed pipe (128 + SIGPIPE)


def test_cli_show_a_search_whose_task_is_the_users(tmp_path, capsys):
    # `nasbook list` suggests `nasbook show NAME`; for a user's task (not rebuilt from storage) it failed
    # with "pass task=... to load_search", which a shell user cannot do
    import nasbook
    from nasbook.space import GraphSpace
    from nasbook.testing import ToyTask

    space = GraphSpace(ops=("gcn", "sage", "fc", "skip"))
    db = str(tmp_path / "u.db")
    s = nasbook.Search(space, ToyTask(space, fail_ids=()), budget=12, seed=0, storage=db, name="u").run(progress="none")
    assert main(["show", "u", "--storage", db]) == 0
    out = capsys.readouterr().out
    assert "<Search 'u' done: 12 of 12 trials" in out and "on ToyTask" in out and "trials: 12 complete" in out
    assert f"best trial: #{s.best.number}, architecture {s.best.arch.id}" in out and f"score = {s.best.value:.4f}" in out
    assert "load_search('u'" in out and "task=..." in out


def test_cli_name_taken_says_how_to_extend_it_from_the_shell(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    assert main(["search", "--budget", "3", "--seed", "0", "--storage", db, "--name", "a", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["search", "--budget", "3", "--storage", db, "--name", "a", "--quiet"]) == 2
    err = capsys.readouterr().err
    # a shell user is told the shell command, not Python's nasbook.load_search(...)
    assert f"nasbook search --resume a --storage {db} --budget N" in err and "load_search" not in err


@pytest.mark.parametrize("strategy", ["asha", "sh", "hyperband", "growth", "median-stopping", "curve-stopping"])
def test_cli_refuses_a_multi_fidelity_strategy_on_a_table_before_storing(tmp_path, capsys, strategy):
    # growth and the stopping rules ran as plain random search on the table (Search's own check now)
    db = tmp_path / "mf.db"
    assert main(["search", "--strategy", strategy, "--budget", "5", "--storage", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--strategy {strategy!r}" in err and "evolution" in err and "Traceback" not in err
    assert not db.exists()  # refused before a search (an empty 'interrupted' one) was stored


def test_cli_each_subcommand_help_states_its_exit_status():
    from nasbook.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        text = " ".join(p.format_help().split())
        assert "exit status" in text and "130 interrupted" in text, f"`nasbook {name} --help` does not say its exit status"
        if name in ("show", "list"):  # the commands whose output is piped into `head`
            assert "141 its output's reader went away" in text, name
    assert "141 its output's reader went away" in " ".join(parser.format_help().split())


def test_cli_a_misspelt_option_gets_a_suggestion_and_the_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["search", "--budgte", "5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: nasbook search" in err and "unrecognized arguments: --budgte 5 (did you mean '--budget'?)" in err


def test_cli_without_a_command_prints_the_help(capsys):
    assert main([]) == 2  # was argparse's bare "the following arguments are required: command"
    err = capsys.readouterr().err
    assert "usage: nasbook" in err and "run or resume a search" in err and "exit status" in err


def test_cli_a_missing_default_storage_says_to_name_the_file(tmp_path, monkeypatch, capsys):
    # a search made in Python with storage="runs.db", then `nasbook show NAME` without --storage
    monkeypatch.chdir(tmp_path)
    assert main(["show", "cora-evolution"]) == 2
    err = capsys.readouterr().err
    assert "'nasbook.db' does not exist" in err and "--storage FILE" in err
    assert main(["list", "--storage", str(tmp_path / "typo.db")]) == 2
    assert "--storage FILE" not in capsys.readouterr().err  # a file the user named: its path is the problem
    db = tmp_path / "nasbook.db"  # the default storage exists, but the search is in another file
    assert main(["search", "--budget", "2", "--storage", str(db), "--name", "other", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["show", "cora-evolution"]) == 2
    err = capsys.readouterr().err
    assert "No search named 'cora-evolution'" in err and "--storage FILE" in err


def test_cli_show_a_search_whose_strategy_is_a_sampler_instance(tmp_path, capsys):
    # outside probe 2: a search run with OptunaSampler(TPESampler(...)) is listed by `nasbook list`, but
    # `nasbook show NAME` exited 2 ("bad arguments") with "pass strategy=... to load_search"
    optuna = pytest.importorskip("optuna")
    import nasbook
    from nasbook.strategies import OptunaSampler
    from nasbook.tasks import NasBenchGraph

    db = str(tmp_path / "t.db")
    s = nasbook.Search(NasBenchGraph("cora"), strategy=OptunaSampler(optuna.samplers.TPESampler(seed=3)), budget=6,
                       seed=3, storage=db, name="t").run(progress="none")
    s.close()
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    assert main(["show", "t", "--storage", db]) == 0
    out = capsys.readouterr().out
    # the search itself, loaded read-only (its repr says so, why and how to resume it in Python)
    assert out.startswith("<Search 't' done: 6 of 6 trials, optuna on nbg-cora") and "trials: 6 complete" in out
    assert "read-only: its strategy OptunaSampler cannot be rebuilt" in out
    assert f"nasbook.load_search('t', {db!r}, strategy=...)" in out
    assert f"best trial: #{s.best.number}, architecture {s.best.arch.id}" in out
    assert "regret vs the table's best" in out
    assert "extend with" not in out  # it cannot be extended from the shell
    assert main(["search", "--resume", "t", "--storage", db, "--budget", "8", "--quiet"]) == 2  # refused, as before
    assert "nasbook: error: load_search('t', budget=...): search 't' is read-only" in capsys.readouterr().err
    assert main(["search", "--resume", "t", "--storage", db, "--quiet"]) == 2
    assert "nasbook: error: run(): search 't' is read-only" in capsys.readouterr().err
    assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before  # showing it and the refusals wrote nothing
