"""Every public callable of nasbook has a numpydoc docstring that matches its signature.

"Public" is what a user reaches through an ``__all__``: ``nasbook.__all__`` and the ``__all__`` of
each subpackage. For each such function, and each such class (its constructor, its public methods
and properties, including those it inherits from a nasbook base class), the docstring is parsed
with :class:`numpydoc.docscrape.NumpyDocString` and must

* open with a summary line (``SS01``);
* document every parameter of the signature under *Parameters* or *Other Parameters*, ``self``,
  ``cls`` and private ``_names`` aside; ``*args`` and ``**kwargs`` are documented under those
  names, or by the keywords they take (``PR01``);
* document no parameter that the signature lacks (``PR02``), and none without a description
  (``PR07``: a name and a type tell a caller nothing the signature does not);
* have a *Returns* (or *Yields*) section when the function returns a value: a return annotation
  other than ``None``, or a ``return <value>`` in its source (``RT01``), each entry described
  (``RT03``);
* parse without numpydoc warnings (an unknown section name, a malformed list) (``GL06``).

A class's constructor parameters are read from the class docstring (scikit-learn's habit) or from
``__init__``'s own docstring (a class that inherits its constructor may leave them to the class
that defines it); dataclass and named-tuple fields may be documented under *Attributes*. An override without a docstring of its own is judged by the one it inherits
(:func:`inspect.getdoc`), against its own signature; an override whose docstring has no
*Parameters* (or *Returns*) section is read with its base method's. Properties need a summary
line only, their own or the overridden property's.

The ``>>>`` examples of those docstrings run too (:mod:`doctest`, ``+SKIP`` ones aside), in a
temporary directory.

Not checked, each for a stated reason: the ``test_*`` methods and fixtures of the contract suites
in :mod:`nasbook.testing` (their parameters are pytest fixtures, not a caller's arguments); hooks
a framework calls (Lightning's ``training_step``, torch's ``forward``, the hooks listed in
``FRAMEWORK_HOOKS``) whose parameters the framework's own docs define; the members of
:class:`enum.Enum` subclasses and exceptions' constructors inherited from the builtins.
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import enum
import functools
import importlib
import inspect
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape", reason="numpydoc is in the dev extra")

PACKAGES = [
    "nasbook", "nasbook.display", "nasbook.executors", "nasbook.growth", "nasbook.knowledge", "nasbook.predictors",
    "nasbook.proxies", "nasbook.results", "nasbook.search", "nasbook.space", "nasbook.storage", "nasbook.strategies",
    "nasbook.tasks", "nasbook.testing", "nasbook.training", "nasbook.viz",
]

#: methods a framework calls with arguments it defines (torch, Lightning, pytest): their parameter
#: lists are the framework's, documented there
FRAMEWORK_HOOKS = {
    "forward", "training_step", "validation_step", "test_step", "predict_step", "configure_optimizers",
    "setup", "prepare_data", "train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader",
    "on_train_start", "on_train_end", "on_train_epoch_start", "on_train_epoch_end", "on_validation_epoch_start",
    "on_validation_epoch_end", "on_train_batch_start", "on_train_batch_end", "on_validation_batch_end",
    "on_fit_start", "on_fit_end", "on_exception", "on_before_optimizer_step", "on_after_backward",
    "on_before_backward", "on_save_checkpoint", "on_load_checkpoint", "state_dict", "load_state_dict", "extra_repr", "teardown",
}


@dataclasses.dataclass(frozen=True)
class Problem:
    where: str
    code: str
    detail: str

    @property
    def key(self) -> str:
        return f"{self.where} {self.code}"

    def __str__(self) -> str:
        return f"{self.where}: {self.code} {self.detail}"


def _is_nasbook(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "nasbook"


def public_objects() -> Iterator[tuple[str, object]]:
    """``(dotted name, object)`` for every callable named in a public ``__all__``, once each."""
    seen: set[int] = set()
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if name.startswith("_"):
                continue  # ``__version__`` and the old names of the plot-data builders (``viz._history_info``)
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj) or not _is_nasbook(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{package}.{name}", obj


def _parsed(doc: str, where: str, problems: list[Problem]) -> docscrape.NumpyDocString:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parsed = docscrape.NumpyDocString(doc)
        except ValueError as error:  # numpydoc raises on a section it cannot read
            problems.append(Problem(where, "GL06", str(error).splitlines()[0]))
            return docscrape.NumpyDocString("")
    for warning in caught:
        problems.append(Problem(where, "GL06", str(warning.message).splitlines()[0]))
    return parsed


def _undescribed(parsed: docscrape.NumpyDocString) -> list[str]:
    """Parameters listed with a type but no description: a caller learns nothing from them."""
    return [p.name for section in ("Parameters", "Other Parameters") for p in parsed[section] if not "".join(p.desc).strip()]


def _documented(parsed: docscrape.NumpyDocString, sections: tuple[str, ...]) -> list[str]:
    names = []
    for section in sections:
        for param in parsed[section]:
            names += [n.strip().replace("\\", "") for n in param.name.split(",") if n.strip()]
    return names


def _signature_names(signature: inspect.Signature) -> list[str]:
    names = []
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            names.append(f"*{param.name}")
        elif param.kind is param.VAR_KEYWORD:
            names.append(f"**{param.name}")
        else:
            names.append(param.name)
    return [n for n in names if n not in ("self", "cls") and not n.startswith("_")]  # ``_keys=``: private


def _check_parameters(where: str, signature: inspect.Signature, documented: list[str], problems: list[Problem]) -> None:
    wanted = _signature_names(signature)
    plain = {n.lstrip("*"): n for n in wanted}
    missing = [n for n in wanted if n not in documented and n.lstrip("*") not in documented]
    unknown = [n for n in documented if n not in wanted and plain.get(n.lstrip("*")) is None]
    var_keyword = next((n for n in wanted if n.startswith("**")), None)
    if var_keyword is not None and unknown:  # the keywords ``**kwargs`` takes, documented one by one
        missing = [n for n in missing if n != var_keyword]
        unknown = []
    if missing:
        problems.append(Problem(where, "PR01", f"not documented: {', '.join(missing)}"))
    if unknown:
        problems.append(Problem(where, "PR02", f"documented but not in the signature: {', '.join(unknown)}"))


def _returns_value(func: Callable) -> bool:
    """Whether ``func`` returns something other than None: by annotation, else by its source."""
    annotation = inspect.signature(func, eval_str=False).return_annotation
    if annotation is not inspect.Signature.empty:
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
        return text not in ("None", "NoReturn", "Never", "typing.NoReturn")
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return False

    def returns(node: ast.AST) -> Iterator[ast.Return]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Return):
                yield child
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                yield from returns(child)

    body = tree.body[0]
    return any(r.value is not None and not (isinstance(r.value, ast.Constant) and r.value.value is None) for r in returns(body))


def _signature(obj: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(obj, eval_str=False)
    except (TypeError, ValueError):
        return None


def _inherited(cls: type | None, name: str, section: str) -> list[str] | None:
    """The *section* entries of the nearest base-class method ``name`` that documents them."""
    if cls is None:
        return None
    for klass in cls.__mro__[1:]:
        member = vars(klass).get(name)
        if member is None:
            continue
        doc = inspect.getdoc(getattr(member, "__func__", member)) or ""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = docscrape.NumpyDocString(doc)
        if parsed[section]:
            return [p.name for p in parsed[section]]
    return None


def check_function(where: str, func: Callable, problems: list[Problem], cls: type | None = None) -> None:
    doc = inspect.getdoc(func) or ""
    parsed = _parsed(doc, where, problems)
    if not " ".join(parsed["Summary"]).strip():
        problems.append(Problem(where, "SS01", "no summary line"))
        return
    name = getattr(func, "__name__", "")
    if _undescribed(parsed):
        problems.append(Problem(where, "PR07", f"no description: {', '.join(_undescribed(parsed))}"))
    documented = _documented(parsed, ("Parameters", "Other Parameters"))
    if not documented:  # an override documents what differs; the base method documents the hook's parameters
        documented = [n.strip() for entry in _inherited(cls, name, "Parameters") or [] for n in entry.split(",")]
    signature = _signature(func)
    if signature is not None:
        _check_parameters(where, signature, documented, problems)
    target = inspect.unwrap(func)
    returns = parsed["Returns"] or parsed["Yields"] or _inherited(cls, name, "Returns") or _inherited(cls, name, "Yields")
    if not returns and (inspect.isgeneratorfunction(target) or (inspect.isfunction(target) and _returns_value(target))):
        problems.append(Problem(where, "RT01", "returns a value but has no Returns section"))
    if any(not "".join(r.desc).strip() for r in parsed["Returns"] + parsed["Yields"]):
        problems.append(Problem(where, "RT03", "a Returns entry without a description (what is the value?)"))


def _constructor_owner(cls: type) -> type | None:
    for klass in cls.__mro__:
        if "__init__" in vars(klass) or "__new__" in vars(klass):
            return klass
    return None


def _members(cls: type) -> Iterator[tuple[str, str, object]]:
    """``(name, kind, member)`` for the public methods and properties that nasbook defines on ``cls``."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _is_nasbook(klass):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") and name != "__call__" or name in seen:
                continue
            seen.add(name)
            if isinstance(member, (property, functools.cached_property)):
                yield name, "property", member
            elif isinstance(member, (staticmethod, classmethod)):
                yield name, "method", getattr(cls, name)
            elif inspect.isfunction(member):
                yield name, "method", getattr(cls, name)


def check_class(where: str, cls: type, problems: list[Problem], checked: set[int]) -> None:
    doc = inspect.getdoc(cls) or ""
    parsed = _parsed(doc, where, problems)
    if not " ".join(parsed["Summary"]).strip():
        problems.append(Problem(where, "SS01", "no summary line"))
    if _undescribed(parsed):
        problems.append(Problem(where, "PR07", f"no description: {', '.join(_undescribed(parsed))}"))
    contract = cls.__module__.startswith("nasbook.testing._") and cls.__name__.endswith("Contract")
    owner = _constructor_owner(cls)
    if not issubclass(cls, enum.Enum):  # an enum's "constructor" is the lookup Enum(value)
        if owner is not None and _is_nasbook(owner) and not contract:
            sections: tuple[str, ...] = ("Parameters", "Other Parameters")
            if dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
                sections += ("Attributes",)
            documented = _documented(parsed, sections)
            init = vars(cls).get("__init__")
            if not documented and init is not None and inspect.getdoc(init):
                documented = _documented(_parsed(inspect.getdoc(init) or "", f"{where}.__init__", problems), sections)
            if not documented and owner is not cls:  # the constructor is inherited: so are its docs
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    documented = _documented(docscrape.NumpyDocString(inspect.getdoc(owner) or ""), sections)
            signature = _signature(cls)
            passes_through = signature is not None and all(
                p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()
            )  # an abstract base's ``__new__(cls, *args, **kwargs)``: its subclasses document their own
            if signature is not None and not passes_through:
                _check_parameters(f"{where}()", signature, documented, problems)
    if issubclass(cls, enum.Enum):
        return
    for name, kind, member in _members(cls):
        if contract and (name.startswith("test_") or hasattr(member, "_fixture_function_marker") or hasattr(member, "_pytestfixturefunction")):
            continue
        if name in FRAMEWORK_HOOKS:
            continue
        key = id(member.fget if isinstance(member, property) else getattr(member, "__func__", member))
        member_where = f"{where}.{name}"
        if kind == "property":
            if key in checked:
                continue
            checked.add(key)
            inherited = (inspect.getdoc(vars(k)[name]) for k in cls.__mro__[1:] if name in vars(k))
            if not (inspect.getdoc(member) or "").strip() and not any((d or "").strip() for d in inherited):
                problems.append(Problem(member_where, "SS01", "property has no docstring"))
            continue
        if key in checked:
            continue
        checked.add(key)
        check_function(member_where, member, problems, cls)


def find_problems() -> list[Problem]:
    problems: list[Problem] = []
    checked: set[int] = set()
    for where, obj in public_objects():
        if inspect.isclass(obj):
            check_class(where, obj, problems, checked)
        else:
            check_function(where, obj, problems)
    return problems


def test_public_docstrings_match_signatures():
    problems = find_problems()
    report = "\n".join(map(str, problems))
    print(report)
    assert not problems, f"{len(problems)} docstring problems in the public API:\n{report}"


def _with_doc(func: Callable, doc: str) -> Callable:
    func.__doc__ = doc
    return func


def test_the_checker_catches_a_bad_docstring():
    """The checks can fail: a summary-less, mis-documented function is reported on each count."""

    def bad(alpha, beta=1, *args):
        """
        Parameters
        ----------
        alpha : int
            The first.
        beta : int
        gamma : int
            Not in the signature.
        """
        return alpha

    problems: list[Problem] = []
    check_function("bad", bad, problems)
    assert [p.code for p in problems] == ["SS01"]  # nothing else is read without a summary
    bare = "Return it.\n\nReturns\n-------\nint\n"
    problems = []
    check_function("bare", _with_doc(lambda: 1, bare), problems)
    assert [p.code for p in problems] == ["RT03"]
    bad.__doc__ = "Add things.\n" + bad.__doc__
    problems = []
    check_function("bad", bad, problems)
    assert {p.code: p.detail for p in problems} == {
        "PR07": "no description: beta",
        "PR01": "not documented: *args",
        "PR02": "documented but not in the signature: gamma",
        "RT01": "returns a value but has no Returns section",
    }


def docstring_examples() -> Iterator[tuple[str, doctest.DocTest]]:
    """The ``>>>`` examples of every public docstring checked above, one DocTest each."""
    finder = doctest.DocTestFinder(recurse=False)
    seen: set[int] = set()

    def tests(where: str, obj: object) -> list[doctest.DocTest]:
        target = obj.fget if isinstance(obj, property) else obj
        if id(target) in seen:
            return []
        seen.add(id(target))
        module = importlib.import_module(getattr(target, "__module__", None) or "nasbook")
        return [t for t in finder.find(target, where, module=False, globs=dict(vars(module))) if t.examples]

    for where, obj in public_objects():
        found = tests(where, obj)
        if inspect.isclass(obj):
            for name, _, member in _members(obj):
                found += tests(f"{where}.{name}", member)
        for test in found:
            yield where, test


def run_examples(cases: Iterable[tuple[str, doctest.DocTest]]) -> list[str]:
    """Run the examples; the name and first failure report of each docstring whose examples fail."""
    failed = []
    for _, test in cases:
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        if runner.run(test, out=report.append).failed:
            failed.append(f"{test.name}:\n{''.join(report)[:1500]}")
    return failed


def test_docstring_examples_run(tmp_path, monkeypatch):
    """Every ``>>>`` example in a public docstring runs and prints what it shows (``+SKIP`` aside)."""
    monkeypatch.chdir(tmp_path)  # examples that store a search write their file here
    cases = list(docstring_examples())
    assert len(cases) >= 20, f"found only {len(cases)} docstrings with examples: the walk is broken"
    failed = run_examples(cases)
    assert not failed, "\n\n".join(failed)


def test_a_wrong_example_fails():
    def shown():
        """Add one.

        >>> 1 + 1
        3
        """

    [case] = doctest.DocTestFinder().find(shown, "shown")
    assert run_examples([("shown", case)]) and "Expected" in run_examples([("shown", case)])[0]
