"""One promise every configurable plug-in keeps (scikit-learn's estimator convention): each
constructor argument is kept as an attribute of the same name, unchanged."""

from __future__ import annotations

import inspect
from typing import Any


def assert_constructor_arguments_kept(obj: Any) -> None:
    """Fail when an ``__init__`` argument of ``obj`` is not an attribute of that name.

    ``get_params()`` reads the arguments back from the signature, so one kept as ``self._p`` (or
    not at all) is missing from ``repr``, ``clone()`` and the configuration stored with a search:
    a clone (the contracts, ASHA's base, a Portfolio's arms) or a resumed search silently runs with
    the default instead.
    """
    name = type(obj).__name__
    sig = inspect.signature(type(obj).__init__)
    args = [n for n, p in sig.parameters.items() if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    params = obj.get_params()
    missing = [n for n in args if n not in params]
    assert not missing, (
        f"{name}.__init__ takes {missing} but keeps no attribute of that name: get_params(), repr, clone() and the "
        f"stored configuration leave it out, so a clone or a resumed search runs with its default. Keep each "
        f"argument as self.<name> = <name> (validate it later, e.g. in setup or fit)."
    )
    assert repr(obj.clone()) == repr(obj), f"{name}.clone() is {obj.clone()!r}, not {obj!r}"


def assert_task_arguments_kept(task: Any) -> None:
    """The same promise for a task, checked on what a search stores of it (``to_config()["params"]``).

    A search stores its task's configuration; ``load_search`` rebuilds a task from it (a built-in, or a
    class registered with ``nasbook.tasks.register``) and compares a task given again with it, and a
    knowledge base keys tasks by it. So fail when a constructor argument is kept under another name
    (or not at all), or is left out of the stored parameters while not at its default: the rebuilt (or
    compared) task silently has the default. An argument without a default may be left out (a
    ``space``, a ``datamodule`` holding the user's data): the task is then passed again on resume,
    never rebuilt with a default. Finally the stored parameters (those arguments given again) must
    rebuild a task with the same configuration.
    """
    import json

    name = type(task).__name__
    sig = inspect.signature(type(task).__init__)
    args = {n: p for n, p in sig.parameters.items() if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    config = json.loads(json.dumps(task.to_config()))  # as it reads back from storage
    stored = config.get("params")
    assert isinstance(stored, dict), f"{name}.to_config()['params'] must be a mapping of its constructor arguments; got {stored!r:.80}"
    hidden = [n for n in args if not hasattr(task, n)]
    assert not hidden, (
        f"{name}.__init__ takes {hidden} but keeps no attribute of that name: get_params(), repr and the stored "
        f"configuration leave it out, so a resumed search (and a knowledge base comparing tasks) runs with its default. "
        f"Keep each argument as self.<name> = <name> (validate it later, in check())."
    )
    unknown = sorted(set(stored) - set(args))
    assert takes_any or not unknown, (
        f"{name}.to_config()['params'] holds {unknown}, which {name}.__init__ does not take: the stored configuration "
        f"cannot rebuild the task. Store the constructor arguments under their own names."
    )
    dropped = {n: getattr(task, n) for n, p in args.items()
               if n not in stored and p.default is not p.empty and not _equal(getattr(task, n), p.default)}
    assert not dropped, (
        f"{name}.to_config()['params'] leaves out {', '.join(f'{n}={v!r:.40}' for n, v in dropped.items())}, not the "
        f"default ({', '.join(f'{n}={args[n].default!r:.40}' for n in dropped)}): a search resumed from the stored "
        f"configuration, or a task compared with it, has the default instead. Store every argument (get_params() does, "
        f"unless overridden; leave one out only while it has its default)."
    )
    given = {n: getattr(task, n) for n, p in args.items() if n not in stored and p.default is p.empty}
    rebuilt = type(task)(**stored, **given)
    again = json.loads(json.dumps(rebuilt.to_config()))
    assert again == config, (
        f"{name} rebuilt from its stored parameters {stored!r:.120} is another task: its configuration is "
        f"{again!r:.160}, not {config!r:.160}. Store each argument as the constructor takes it."
    )


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # an array, or an object whose == raises: not provably the default
        return False
