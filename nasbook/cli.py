"""``nasbook`` on the command line.

``nasbook search``: run (or resume) a search on a NAS-Bench-Graph table and print its result.
``nasbook show [NAME]``: print a stored search (without NAME: list them).
``nasbook list``: list the searches in a storage.
``nasbook report NOTEBOOK [-p name value ...] [-o DIR] [-k KERNEL] [-t SECONDS]``: run a notebook as a report (papermill),
write the executed notebook and a self-contained HTML that renders offline.

Exit status, the same for every command: 0 done; 1 it ran and failed: a cell of ``nasbook report``'s
notebook raised or ran past ``--timeout``, or its kernel died (the partial notebook is written), a
storage that cannot be read (not a database, damaged, locked by another run), or any other error
while running; 2 a usage error: argparse's (an unknown option, a missing argument) and arguments
nasbook refuses (a notebook or storage file that does not exist, an unknown ``-p`` parameter, a
``-p`` value whose type does not fit the parameter's default, an unknown kernel, an unknown dataset
or search, a search name already taken); 130 interrupted (Ctrl-C); 141 the reader of its output
went away (``nasbook show NAME | head``: a closed pipe, as SIGPIPE's 128 + 13). A script can so
tell a mistyped command (2) from one that failed (1). Each error is one line on stderr,
``nasbook: error: ...``, without Python's traceback (``--traceback`` shows it).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import traceback
import unicodedata
from collections.abc import Sequence
from typing import Any

from nasbook._errors import (
    DuplicatedSearchError,
    InvalidParameterError,
    NasbookError,
    SearchNotFoundError,
    StorageNotFoundError,
)

#: the storage of every command that takes --storage, when none is given
_DEFAULT_STORAGE = "nasbook.db"
#: exit status of a usage error (argparse's own, or arguments nasbook refuses) and of a command that ran and failed
EXIT_USAGE, EXIT_FAILED = 2, 1
#: the errors of arguments nasbook refuses before doing anything (exit 2); any other error is a failure (exit 1)
USAGE_ERRORS = (InvalidParameterError, SearchNotFoundError, StorageNotFoundError, DuplicatedSearchError)
_EPILOG = (f"exit status: 0 done; {EXIT_FAILED} it ran and failed (a notebook cell raised or timed out, its kernel died, "
           f"a storage that cannot be read...); {EXIT_USAGE} bad arguments (usage, a missing file, an unknown -p "
           "parameter, dataset or search); 130 interrupted; 141 its output's reader went away (| head)")
#: each subcommand's --help says its own exit statuses too (`nasbook search --help` is where a script's author looks)
_EPILOG_SEARCH = (f"exit status: 0 done; {EXIT_FAILED} it ran and failed (a storage that cannot be read or is locked by "
                  f"another run); {EXIT_USAGE} bad arguments (an unknown dataset, strategy or search, a budget below "
                  "1 or below what a resumed search has spent, a name already taken); 130 interrupted (what finished "
                  "is stored: --resume NAME continues it)")
_EPILOG_STORE = (f"exit status: 0 done; {EXIT_FAILED} a storage that cannot be read; {EXIT_USAGE} bad arguments (a "
                 "storage file or a search that does not exist); 130 interrupted; 141 its output's reader went away (| head)")


#: what a store named ``:memory:`` (or its URLs) is, said where a command would otherwise advise resuming or showing it
_MEMORY_HINT = (":memory: is a store in memory, new and empty in each command: searches run there are not kept "
                "(--storage FILE keeps them)")


def _in_memory(storage: object) -> bool:
    """Whether ``--storage`` names a store that lives only as long as this command."""
    return str(storage) in (":memory:", "sqlite://", "sqlite:///:memory:")


def _terminal_safe(text: str) -> str:
    """``text`` with control and format characters (but newlines) escaped, as ``\\x1b``.

    Search names, states and attributes printed here come from a storage file, maybe one someone else
    wrote: an escape sequence in a name would otherwise reach the terminal and could retitle it, clear
    or overwrite the lines printed before it, or (bidirectional overrides) show text other than what
    is stored."""
    return "".join(c if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf") else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)


def _summary(search) -> str:  # type: ignore[no-untyped-def]
    from nasbook.tasks import NasBenchGraph

    lines = [repr(search)]
    states: dict[str, int] = {}
    for t in search.trials:
        states[t.state.value] = states.get(t.state.value, 0) + 1
    lines.append("trials: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    best = search.best
    if best is None:
        lines.append("no completed trial")
        return "\n".join(lines)
    lines.append(f"best trial: #{best.number}, architecture {best.arch.id}: {best.arch.spec}")
    lines.append(f"  {search.metric} = {best.value:.4f}")
    for k, v in best.attrs.items():
        if isinstance(v, float):
            lines.append(f"  {k} = {v:.4f}   (held out: never shown to the strategy)")
    task = search.task
    if isinstance(task, NasBenchGraph):
        opt_arch, opt = task.optimum()
        lines.append(
            f"  regret vs the table's best {search.metric} ({opt:.4f}, arch {opt_arch.id}): "
            f"{100 * (opt - best.value):.2f} pp"
        )
    resume = f"nasbook search --resume {shlex.quote(search.name)} --storage {shlex.quote(search.storage.label)}"
    if _in_memory(search.storage.label):  # gone when this command ends: no resume to advise
        lines.append(f"storage: {search.storage.label} (in memory: not kept after this command; --storage FILE keeps a search)")
    elif isinstance(task, NasBenchGraph) and search.resumable:  # read-only (its strategy not rebuilt): the repr says why
        lines.append(f"storage: {search.storage.label} (extend with: {resume} --budget N)")
    else:
        lines.append(f"storage: {search.storage.label}")
    return "\n".join(lines)


def _cmd_search(args: argparse.Namespace) -> int:
    import nasbook
    from nasbook.tasks import NasBenchGraph

    if args.resume:
        # a stored search keeps its task, strategy and seed: refuse options that would be ignored
        ignored = [f"--{k}" for k in ("dataset", "strategy", "seed", "name") if getattr(args, k) is not None]
        if ignored:
            raise InvalidParameterError(
                f"{', '.join(ignored)} cannot be combined with --resume: the stored search {args.resume!r} keeps "
                "its dataset, strategy, seed and name (only --budget, a new total, changes on a resume).")
        search = nasbook.load_search(args.resume, storage=args.storage, budget=args.budget)
    else:
        task = NasBenchGraph(args.dataset or "cora")
        strategy = _table_strategy(args.strategy or "evolution", task)
        try:
            search = nasbook.Search(
                task, strategy=strategy,
                budget=100 if args.budget is None else args.budget, seed=args.seed, storage=args.storage, name=args.name,
            )
        except DuplicatedSearchError:  # its message advises Python's load_search: say it in the shell's words
            raise DuplicatedSearchError(
                f"a search named {args.name!r} already exists in {args.storage!r}: extend it with "
                f"nasbook search --resume {shlex.quote(str(args.name))} --storage {shlex.quote(args.storage)} --budget N, "
                "or pick another --name.") from None
    try:
        search.run(progress="none" if args.quiet else "bar")
    except KeyboardInterrupt:
        # finished trials are stored and the ones in flight re-run first: say how, not a traceback
        resume = f"nasbook search --resume {shlex.quote(search.name)} --storage {shlex.quote(search.storage.label)}"
        if _in_memory(search.storage.label):  # nothing to resume: the store goes with this process
            resume = "nothing (the store was in memory and is not kept; run with --storage FILE to resume later)"
        print(f"nasbook: interrupted after {search.n_trials} trials; resume with: {resume}", file=sys.stderr)
        return 130
    print(_terminal_safe(_summary(search)))
    return 0


def _table_strategy(name: str, task: Any) -> Any:
    """The strategy ``--strategy NAME`` makes, refused before anything is stored when its method needs epochs.

    ``nasbook search`` runs on a NAS-Bench-Graph table, which holds final scores only: ASHA, successive
    halving and Hyperband asked for 1 epoch at their first trial and failed there, after the search
    had been stored; growth and the stopping rules ran as plain random search. ``Search`` refuses them
    too (the same check); here the message names the option.
    """
    from nasbook.search import check_strategy_task
    from nasbook.strategies import get_strategy

    strategy = get_strategy(name)  # an unknown name: InvalidParameterError with the names and a suggestion
    check_strategy_task(strategy, task, what=f"--strategy {name!r}")
    return strategy


def _cmd_show(args: argparse.Namespace) -> int:
    import nasbook

    if args.name is None:
        return _cmd_list(args)
    # a task or strategy not rebuilt here (a user's class, an Optuna sampler instance, a task holding data) loads
    # read-only: its repr says so, and how to resume it
    search = nasbook.load_search(args.name, storage=args.storage)
    try:
        print(_terminal_safe(_summary(search)))
    finally:
        search.close()
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from nasbook.storage import open_storage

    st = open_storage(args.storage, create=False)
    try:
        records = st.list_searches()
    finally:
        st.close()
    if not records:
        print(f"no searches in {st.label}" + (f" ({_MEMORY_HINT})" if _in_memory(args.storage) else ""))
        return 0
    rows: list[tuple[str, ...]] = [("name", "state", "trials", "best", "strategy", "task")]
    for r in records:
        cfg = r.config if isinstance(r.config, dict) else {}
        best = "" if r.best_value is None else f"{r.best_value:.4g}"
        strategy = cfg.get("strategy", {}).get("alias") or cfg.get("strategy", {}).get("class", "?") if isinstance(cfg.get("strategy"), dict) else "?"
        task = cfg.get("task_name") or (cfg.get("task", {}).get("class", "?") if isinstance(cfg.get("task"), dict) else "?")
        rows.append(tuple(_terminal_safe(cell) for cell in (r.name, str(r.state), "" if r.n_trials is None else str(r.n_trials),
                                                             best, str(strategy), str(task))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"{len(records)} search{'es' if len(records) != 1 else ''} in {st.label}:")
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print("show one with: nasbook show NAME --storage " + shlex.quote(st.label))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from nasbook._report import make_report, parse_value

    if args.timeout is not None and not args.timeout > 0:  # -t -5 ran the notebook with no limit (nbclient's "none")
        raise InvalidParameterError(f"nasbook report --timeout must be seconds > 0 (omit it for no limit); got {args.timeout:g}.")
    params = {name: parse_value(value) for name, value in (args.parameter or [])}
    ipynb, html = make_report(args.notebook, params, args.output_dir, kernel_name=args.kernel,
                              timeout_s=args.timeout)
    print(f"wrote {ipynb}")
    print(f"wrote {html} (self-contained: opens offline)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from nasbook._version import __version__

    parser = argparse.ArgumentParser(prog="nasbook", description="Neural architecture search in a notebook.",
                                     epilog=_EPILOG)
    parser.add_argument("--version", action="version", version=f"nasbook {__version__}")
    parser.add_argument("--traceback", action="store_true", help="on an error, show Python's traceback too")
    sub = parser.add_subparsers(dest="command")  # none given: main prints this help (not "arguments are required")
    p = sub.add_parser("search", help="run or resume a search on a NAS-Bench-Graph table", epilog=_EPILOG_SEARCH)
    p.add_argument("--dataset", default=None, help="NAS-Bench-Graph dataset: cora, citeseer, pubmed, cs, physics, "
                   "photo, computers, arxiv or proteins (default: cora)")
    p.add_argument("--strategy", default=None, help="a strategy name, e.g. random, evolution, local, bo, optuna or "
                   "portfolio (default: evolution)")
    p.add_argument("--budget", type=int, default=None, help="trials (default 100; with --resume: a new total)")
    p.add_argument("--seed", type=int, default=None, help="seeds the strategy (default: drawn and stored, so a resume reproduces)")
    p.add_argument("--storage", default=_DEFAULT_STORAGE, help="SQLite file or database URL (default: nasbook.db)")
    p.add_argument("--name", default=None, help="search name (unique in the storage)")
    p.add_argument("--resume", metavar="NAME", default=None, help="resume (or extend) the stored search NAME")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_search)
    r = sub.add_parser("report", help="execute a notebook with papermill and write it as .ipynb and offline HTML",
                       epilog=f"exit status: 0 written; {EXIT_FAILED} the notebook failed: a cell raised or ran past "
                              "--timeout, or the kernel died (the partial notebook is written); "
                              f"{EXIT_USAGE} bad arguments (usage, a missing notebook, an unknown -p parameter, a -p value "
                              "whose type does not fit its default, an unknown kernel); 130 interrupted")
    r.add_argument("notebook", help="the .ipynb to run (it needs a cell tagged 'parameters' for -p)")
    r.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter of the notebook's 'parameters' cell (repeatable)")
    r.add_argument("-o", "--output-dir", default="reports", help="where to write the report (default: reports/)")
    r.add_argument("-k", "--kernel", default=None, help="Jupyter kernel name (default: the notebook's)")
    r.add_argument("-t", "--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop (and fail) a cell that runs longer (default: no limit)")
    r.set_defaults(func=_cmd_report)
    s = sub.add_parser("show", help="print a stored search (without NAME: list the searches)", epilog=_EPILOG_STORE)
    s.add_argument("name", nargs="?", default=None, help="the search's name (default: list them all)")
    s.add_argument("--storage", default=_DEFAULT_STORAGE, help="SQLite file or database URL (default: nasbook.db)")
    s.set_defaults(func=_cmd_show)
    ls = sub.add_parser("list", help="list the searches in a storage", epilog=_EPILOG_STORE)
    ls.add_argument("--storage", default=_DEFAULT_STORAGE, help="SQLite file or database URL (default: nasbook.db)")
    ls.set_defaults(func=_cmd_list)
    for command in (p, r, s, ls):  # `nasbook show NAME --traceback`, where the error message's advice leads
        command.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help="on an error, show Python's traceback too")
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments; None when no command was given (the help is printed). A misspelt option gets a suggestion.

    argparse reports an unknown option of a subcommand from the top-level parser, with the top-level
    usage and no hint: ``nasbook search --budgte 5`` said only "unrecognized arguments: --budgte 5".
    """
    from nasbook._errors import did_you_mean

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return None
    if extra:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
        options = [o for a in sub._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        hint = did_you_mean(extra[0].split("=", 1)[0], options) if extra[0].startswith("-") else ""
        sub.error(f"unrecognized arguments: {' '.join(extra)}{hint}")  # exits 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args is None:
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:  # e.g. while a table loads or a report runs: no traceback, the shell's code
        print("nasbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `nasbook show NAME | head`: the reader left; no traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit: let it write nowhere
        return 141
    except Exception as exc:  # one line, not a traceback wall; the status tells a refused command from a failed one
        if args.traceback:  # the traceback, then the same line and status as without (a script's `--traceback` rerun)
            traceback.print_exc(file=sys.stderr)
        if isinstance(exc, NasbookError):  # nasbook's own messages say what to do
            hint = ""
            if isinstance(exc, (StorageNotFoundError, SearchNotFoundError)) and getattr(args, "storage", None) == _DEFAULT_STORAGE:
                # `nasbook show NAME` after Search(..., storage="runs.db") in Python: the default is the wrong file
                hint = f" ({_DEFAULT_STORAGE} is --storage's default: name your file with --storage FILE)"
            elif isinstance(exc, SearchNotFoundError) and _in_memory(getattr(args, "storage", None)):
                hint = f" ({_MEMORY_HINT})"
            print(_terminal_safe(f"nasbook: error: {exc}{hint}"), file=sys.stderr)
        else:  # a library's (nbclient, SQLAlchemy, OSError...): its type tells what it is
            where = "" if args.traceback else " (--traceback shows where)"
            print(_terminal_safe(f"nasbook: error: {type(exc).__name__}: {' '.join(str(exc).split())}{where}"), file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, USAGE_ERRORS) else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
