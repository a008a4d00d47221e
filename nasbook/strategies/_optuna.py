"""``OptunaSampler``: any Optuna sampler (TPE, GP, CMA-ES, QMC, an OptunaHub sampler) as a nasbook strategy."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookError,
    check_int,
    unknown_choice,
)
from nasbook.space import SubsetSpace, has_parameters
from nasbook.strategies._base import BaseStrategy

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial

__all__ = ["SAMPLER_NAMES", "OptunaMissingError", "OptunaSampler"]

#: samplers nasbook builds (and rebuilds from storage) by name: ``name -> optuna.samplers class name``
SAMPLER_NAMES: dict[str, str] = {
    "tpe": "TPESampler", "random": "RandomSampler", "gp": "GPSampler", "qmc": "QMCSampler",
}
#: sampler attributes shown by ``repr`` and kept in the stored configuration (when an instance has them)
_SETTINGS = ("n_startup_trials", "n_ei_candidates", "multivariate", "group", "constant_liar", "deterministic",
             "qmc_type", "scramble", "seed", "popsize", "sigma0", "use_separable_cma", "with_margin", "lr_adapt")
_INSTALL = "pip install 'nasbook[optuna]' (or pip install optuna)"


class OptunaMissingError(NasbookError, ImportError):
    """Optuna, an optional dependency, is needed and not installed."""


def _import_optuna(owner: str) -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise OptunaMissingError(
            f"{owner} needs Optuna, an optional dependency of nasbook, which is not installed ({exc}): {_INSTALL}."
        ) from exc
    return optuna


@contextlib.contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna's per-trial INFO lines off (warnings stay) for the duration; the user's level comes back after."""
    level = optuna.logging.get_verbosity()
    if level < optuna.logging.WARNING:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        if level < optuna.logging.WARNING:
            optuna.logging.set_verbosity(level)


def describe_sampler(sampler: Any) -> dict[str, Any]:
    """The key settings of an Optuna sampler instance (best effort: Optuna samplers keep them private)."""
    out: dict[str, Any] = {}
    found = dict(vars(sampler)) if hasattr(sampler, "__dict__") else {}
    parzen = found.get("_parzen_estimator_parameters")
    if parzen is not None and getattr(parzen, "multivariate", None) is not None:  # TPESampler
        found["_multivariate"] = parzen.multivariate
    for name in _SETTINGS:
        value = found.get("_" + name)
        if isinstance(value, (bool, int, float, str)) and not (isinstance(value, float) and not math.isfinite(value)):
            out[name] = value
    return out


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _default_settings(cls: type) -> dict[str, Any]:
    """:func:`describe_sampler` of ``cls()`` (empty when it needs arguments), so a repr shows what differs."""
    found = _DEFAULTS.get(cls)
    if found is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = describe_sampler(cls())
        except Exception:  # a third-party sampler with required arguments
            found = {}
        _DEFAULTS[cls] = found
    return found


#: a lock's type -> how to make a new one (the C types cannot be called)
_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


def _copy_sampler(sampler: Any) -> Any:
    """A deep copy of an Optuna sampler whose locks are new locks of the same kind.

    Optuna 5.1's ``NSGAIISampler`` (and any sampler of a user's) keeps a ``threading.Lock`` among its
    attributes, which ``copy.deepcopy`` cannot copy ("cannot pickle '_thread.lock' object"); a lock guards
    one instance's state, so the copy gets a fresh one, as a new sampler would.
    """
    memo: dict[int, Any] = {}
    seen: set[int] = set()
    todo: list[tuple[Any, int]] = [(sampler, 0)]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 6:
            continue
        seen.add(id(obj))
        if type(obj) in _LOCKS:
            memo[id(obj)] = _LOCKS[type(obj)]()
            continue
        if isinstance(obj, dict):
            todo += [(v, depth + 1) for v in obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += [(v, depth + 1) for v in obj]
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            todo += [(v, depth + 1) for v in vars(obj).values()]
    return copy.deepcopy(sampler, memo)


def _seed_unseeded(sampler: Any, seed: int, lazy_cls: Any, base_cls: type, depth: int = 0) -> None:
    """Seed the random states a sampler built without ``seed`` left unset, as if it had been built with
    ``seed`` (Optuna's samplers, nested ones included, draw from ``LazyRandomState``s set on first use)."""
    for value in list(vars(sampler).values()):
        if isinstance(value, lazy_cls):
            if getattr(value, "_rng", True) is None:
                value.rng.seed(seed)
        elif isinstance(value, base_cls) and depth < 3:
            _seed_unseeded(value, seed, lazy_cls, base_cls, depth + 1)


class _Shown:
    """A value whose repr is given (the sampler in ``repr(strategy)``)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class OptunaSampler(BaseStrategy):
    """Any Optuna sampler as a nasbook strategy: TPE, GP, CMA-ES, QMC, random, or an OptunaHub sampler.

    The space is searched as named categorical parameters (:meth:`SearchSpace.suggest
    <nasbook.space.SearchSpace.suggest>`: for a :class:`~nasbook.space.GraphSpace` ``link`` and
    ``op1`` .. ``op4``; for a :class:`~nasbook.space.ChainSpace` ``depth`` and then the layers'
    ``op`` and ``width``, which exist only up to the depth chosen). Each ``ask`` is one
    ``study.ask()`` of an in-memory Optuna study (direction from the task's mode) and each ``tell``
    one ``study.tell``; the search, its storage, budget, executors and reprs are nasbook's.

    **Proposals that are not new.** Optuna proposes again what it has seen; nasbook never evaluates
    an architecture twice (unless ``allow_duplicates``). A proposal of an architecture already
    evaluated is told its known value (FAIL while it is still running or when it failed), a
    combination that is no architecture of the space (an all-``skip`` cell, a non-member of a
    :class:`~nasbook.space.SubsetSpace`) is told FAIL, and Optuna is asked again; after
    ``max_retries`` such answers the strategy proposes an unseen neighbour of Optuna's favourite
    (``space.mutate``), else an unseen architecture at random; Optuna is told its result like any
    other. None of these counts as a trial.

    **Tables** (a :class:`~nasbook.space.SubsetSpace`, e.g. :class:`~nasbook.tasks.DigitsTable`).
    On a small subset of a large space nearly every combination Optuna proposes is no member
    (97-98 % of TPE's on the shipped tables), so without help most asks end in the fallback. With
    ``project=True`` (the default) a proposal that is an architecture of the parent space but no
    member is projected: the strategy proposes one of the members nearest to it
    (:meth:`SubsetSpace.nearest_to <nasbook.space.SubsetSpace.nearest_to>`, ties at random) that
    is unseen; when all of them are seen, Optuna is asked again as above (on MNIST-1D 3 of 4 of
    TPE's asks still end in the fallback so). ``project_unseen=True`` answers instead with the
    unseen members nearest to it, at whatever distance: the fallbacks all but vanish and TPE's
    regret is level (not the default: on Digits its mean regret at 100 queries came out 0.014 pp
    higher on the probe seeds, which its bar did not allow; docs/benchmarks.md 1o). Optuna's model
    stays honest: the proposal itself is told FAIL (it is never credited with the member's value under
    its own parameters), and the member evaluated is added to the study with *its* parameters
    when its result comes (``n_projected_`` counts these asks). ``project=False`` keeps the plain
    FAIL-and-retry; spaces that are not subsets are unaffected (docs/benchmarks.md 1k, 1m).

    **Trials Optuna did not propose** (a warm start, a stored history replayed, a projected
    member, a random fallback) are added to the study with their parameters (``study.add_trial``)
    when told. Running trials stay RUNNING in the study until told, so samplers that account for
    them (TPE's ``constant_liar``) see the parallel executor's pending work.

    **Seeds and resume.** ``setup`` starts from a fresh sampler every time (built from its name, or
    a deep copy of the instance given, which is never used itself), so a resumed search replays its
    history into the same state and proposes what an uninterrupted one would. A sampler built
    without a seed gets the strategy's seed (``seed``, else the search's; not ``QMCSampler``, which
    draws its seed when built: give it one). The stored configuration
    keeps a named sampler (``"tpe"``, ``"random"``, ``"gp"``, ``"qmc"`` with
    ``sampler_params``) whole; for an instance it keeps the class and key settings only, so
    resuming such a search needs ``load_search(..., strategy=OptunaSampler(<the same sampler>))``.

    Parameters
    ----------
    sampler : optuna.samplers.BaseSampler or str, optional
        An Optuna sampler instance, or the name of one nasbook builds with the strategy's seed:
        ``"tpe"`` (the default, ``TPESampler``), ``"random"``, ``"gp"``, ``"qmc"`` (not ``"cmaes"``:
        CMA-ES cannot model the categorical parameters of a space; pass a ``CmaEsSampler`` instance if you want it with an independent sampler of your choice).
    seed : int, optional
        Overrides the search's seed.
    allow_duplicates : bool
        Evaluate an architecture again when Optuna proposes it again.
    max_retries : int, default 10
        Optuna proposals in a row that are seen or no architecture before the strategy proposes an
        unseen neighbour of Optuna's last proposal (else a random unseen architecture) itself.
    sampler_params : dict, optional
        Keyword arguments of the named sampler (JSON values, e.g. ``{"n_startup_trials": 20}``).
    project : bool, default True
        On a :class:`~nasbook.space.SubsetSpace`, answer a proposal that is no member with an
        unseen member nearest to it (above) instead of asking Optuna again.
    project_unseen : bool, default False
        With ``project``: True projects onto the nearest of the unseen members, at whatever distance
        (:meth:`SubsetSpace.nearest_to(proposal, exclude=seen) <nasbook.space.SubsetSpace.nearest_to>`);
        False onto the members at the smallest distance only, Optuna asked again when all are seen.

    Examples
    --------
    >>> import optuna  # doctest: +SKIP
    >>> search = nasbook.Search(task, strategy=OptunaSampler(optuna.samplers.TPESampler(multivariate=True)))  # doctest: +SKIP
    >>> search = nasbook.Search(task, strategy=OptunaSampler("tpe", sampler_params={"n_startup_trials": 20}))  # doctest: +SKIP
    """

    alias: ClassVar[str] = "optuna"
    #: searches stored before ``project`` (``project_unseen``) existed resume as they ran: without projection
    #: (projecting onto the nearest members only, Optuna asked again when all were seen), whatever the defaults
    stored_defaults: ClassVar[dict[str, Any]] = {"project": False, "project_unseen": False}

    def __init__(self, sampler: Any = None, seed: int | None = None, allow_duplicates: bool = False,
                 max_retries: int = 10, sampler_params: Mapping[str, Any] | None = None, project: bool = True,
                 project_unseen: bool = False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.sampler = sampler
        self.project = project
        self.project_unseen = project_unseen
        self.max_retries = max_retries
        self.sampler_params = sampler_params

    # -- configuration --------------------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        self.max_retries = check_int("OptunaSampler", "max_retries", self.max_retries, minimum=0)
        for name in ("project", "project_unseen"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise InvalidParameterTypeError(
                    f"OptunaSampler({name}=...) must be True or False; got {value!r:.80} of type {type(value).__name__}.")
        sampler, params = self.sampler, self.sampler_params
        if isinstance(sampler, Mapping):  # what to_config stored for an instance
            raise InvalidParameterError(
                f"OptunaSampler(sampler=...): this search ran with an Optuna sampler instance "
                f"({_stored_text(sampler)}), which nasbook cannot rebuild from storage. To resume it, pass the same "
                f"sampler again: load_search(name, storage, strategy=OptunaSampler(<the sampler>, ...)); or store "
                f"a named sampler next time, e.g. OptunaSampler('tpe', sampler_params={{...}})."
            )
        optuna = _import_optuna("OptunaSampler")
        if sampler is None or isinstance(sampler, str):
            if sampler == "cmaes":
                raise InvalidParameterError(
                    "OptunaSampler(sampler='cmaes') is not offered: CMA-ES models continuous and integer parameters "
                    "only, and every parameter of a nasbook space is categorical, so Optuna would sample each one "
                    "with its independent RandomSampler (a random search with one warning per parameter and trial). "
                    "Use 'tpe' or 'gp' (they model categoricals), or pass optuna.samplers.CmaEsSampler(...) yourself "
                    "with the independent_sampler you want.")
            if sampler is not None and sampler not in SAMPLER_NAMES:
                raise unknown_choice("OptunaSampler(sampler=...) name", sampler, SAMPLER_NAMES,
                                     "Or pass an optuna.samplers.BaseSampler instance.")
            if params is not None:
                if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
                    raise InvalidParameterTypeError(
                        f"OptunaSampler(sampler_params=...) must be a dict of keyword arguments of the sampler; got "
                        f"{params!r:.80} of type {type(params).__name__}.")
                if "seed" in params:
                    raise InvalidParameterError(
                        "OptunaSampler(sampler_params=...) must not hold 'seed': the sampler gets the strategy's seed; "
                        "pass OptunaSampler(seed=...) instead.")
                try:
                    json.dumps(dict(params))
                except (TypeError, ValueError) as exc:
                    raise InvalidParameterError(
                        f"OptunaSampler(sampler_params=...) must hold JSON values (they are stored with the search); "
                        f"got {params!r:.80} ({exc}). For other settings pass a sampler instance: "
                        f"OptunaSampler(optuna.samplers.{SAMPLER_NAMES[sampler or 'tpe']}(...)).") from None
            return
        if not isinstance(sampler, optuna.samplers.BaseSampler):
            raise InvalidParameterTypeError(
                f"OptunaSampler(sampler=...) must be an optuna.samplers.BaseSampler instance (e.g. "
                f"optuna.samplers.TPESampler(seed=0)) or one of {sorted(SAMPLER_NAMES)!r}; got {sampler!r:.80} "
                f"of type {type(sampler).__name__}.")
        if params is not None:
            raise InvalidParameterError(
                "OptunaSampler(sampler_params=...) only goes with a sampler name such as 'tpe'; the sampler given is "
                f"an instance ({type(sampler).__name__}): set its parameters when you build it.")

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        sampler = self.sampler
        if not (sampler is None or isinstance(sampler, (str, Mapping))):  # an instance: its class and settings
            cls = type(sampler)
            cfg["params"]["sampler"] = {"optuna_sampler": f"{cls.__module__}.{cls.__qualname__}",
                                        "settings": describe_sampler(sampler)}
        if self.sampler_params is not None:
            cfg["params"]["sampler_params"] = dict(self.sampler_params)
        return cfg

    def _repr_params(self) -> dict[str, Any]:
        params = super()._repr_params()
        sampler = self.sampler
        if not (sampler is None or isinstance(sampler, (str, Mapping))):
            defaults = _default_settings(type(sampler))
            settings = ", ".join(f"{k}={v!r}" for k, v in describe_sampler(sampler).items() if defaults.get(k, _SETTINGS) != v)
            params["sampler"] = _Shown(f"{type(sampler).__name__}({settings})")
        return params

    # -- lifecycle ----------------------------------------------------------------------------------
    def _setup(self) -> None:
        space = self.space_
        if not has_parameters(space):
            raise InvalidParameterTypeError(
                f"OptunaSampler.setup(space=...) needs a space that maps its architectures to named parameters; "
                f"{type(space).__name__} does not. Implement {type(space).__name__}.suggest(choose) and "
                f"parameters_of(arch) (see nasbook.space.SearchSpace.suggest), or search it with another strategy.")
        optuna = _import_optuna("OptunaSampler")
        #: the sampler in use: fresh at every setup, so a replayed history ends in the same state
        self.sampler_ = self._build_sampler(optuna)
        with _quiet(optuna):
            self.study_ = optuna.create_study(direction="maximize" if self.mode_ == "max" else "minimize",
                                              sampler=self.sampler_)
        self.running_: dict[str, list[Any]] = {}  # arch id -> Optuna trials proposing it, asked not told
        self.values_: dict[str, float | None] = {}  # arch id -> the value told (None: failed)
        self.n_rejected_ = 0  # Optuna proposals told FAIL or a known value and asked again
        self.n_fallbacks_ = 0  # asks answered at random after max_retries rejected proposals
        self.n_projected_ = 0  # asks answered by the nearest unseen member of a non-member proposal (project)

    def _build_sampler(self, optuna: Any) -> Any:
        sampler = self.sampler
        if sampler is None or isinstance(sampler, str):
            name = sampler or "tpe"
            cls = getattr(optuna.samplers, SAMPLER_NAMES[name])
            kwargs = dict(self.sampler_params or {})
            try:
                with warnings.catch_warnings():  # asked for by name: no ExperimentalWarning (QMC) at every setup
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return cls(seed=self.seed_, **kwargs)
            except TypeError as exc:
                raise InvalidParameterError(
                    f"OptunaSampler(sampler_params=...) do not fit optuna.samplers.{cls.__name__}: {exc}; got "
                    f"{kwargs!r:.80}.") from None
        built = _copy_sampler(sampler)  # the user's instance stays pristine for the next setup
        if self.seed_ is not None:
            from optuna.samplers._lazy_random_state import LazyRandomState

            _seed_unseeded(built, self.seed_, LazyRandomState, optuna.samplers.BaseSampler)
        return built

    def _ask(self) -> Architecture:
        study, space, optuna = self.study_, self.space_, _import_optuna("OptunaSampler")
        favourite: Architecture | None = None  # Optuna's last proposal already seen
        subset = space if self.project and isinstance(space, SubsetSpace) else None
        proposed: Architecture | None
        with _quiet(optuna):
            for _ in range(self.max_retries + 1):
                trial = study.ask()
                arch = proposed = None
                try:
                    if subset is None:
                        arch = space.suggest(trial.suggest_categorical)
                    else:  # the parent's architecture, kept to project it when it is no member
                        proposed = subset.space.suggest(trial.suggest_categorical)
                        with contextlib.suppress(InvalidArchitectureError):
                            arch = subset.from_parent(proposed)
                except InvalidArchitectureError:  # no architecture of the space (or of the parent)
                    pass
                if arch is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)  # never credited with another's value
                    self.n_rejected_ += 1
                    if proposed is not None:  # a parent architecture the subset lacks: its nearest unseen member
                        assert subset is not None
                        if self.project_unseen:  # the nearest unseen members, however far
                            seen = () if self.allow_duplicates else self.seen_
                            near = [subset.members[j] for j in subset.nearest_to(proposed, exclude=seen)]
                        else:  # the nearest members, if any is unseen
                            near = [m for m in (subset.members[j] for j in subset.nearest_to(proposed)) if self._is_new(m)]
                        if near:
                            self.n_projected_ += 1  # told at tell as a trial Optuna did not propose
                            return near[int(self.rng_.integers(len(near)))] if len(near) > 1 else near[0]
                    continue
                if self._is_new(arch):
                    self.running_.setdefault(arch.id, []).append(trial)
                    return arch
                self._tell_study(trial, self.values_.get(arch.id))  # seen: its value, FAIL if none yet
                self.n_rejected_ += 1
                favourite = arch
        self.n_fallbacks_ += 1
        # Optuna is stuck on what it has seen: step next to it (an unseen neighbour), else anywhere unseen.
        # The result reaches Optuna at tell, as a trial it did not propose.
        return self._sample_new(self._neighbour_of(favourite) if favourite is not None else None, max_tries=20)

    def _neighbour_of(self, arch: Architecture) -> Callable[[], Architecture]:
        def propose() -> Architecture:
            try:
                return self.space_.mutate(arch, self.rng_)
            except InvalidArchitectureError:  # no neighbour at all (a one-architecture space)
                return arch
        return propose

    def _tell(self, trial: Trial) -> None:
        value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
        arch = trial.arch
        self.values_[arch.id] = value
        running = self.running_.get(arch.id)
        optuna = _import_optuna("OptunaSampler")
        with _quiet(optuna):
            if running:
                self._tell_study(running.pop(0), value)
                if not running:
                    del self.running_[arch.id]
                return
            try:
                params = self.space_.parameters_of(arch)
            except InvalidArchitectureError:  # from another space (a search continued over a changed one)
                return
            dists = {name: optuna.distributions.CategoricalDistribution(choices) for name, (choices, _) in params.items()}
            state = optuna.trial.TrialState.COMPLETE if value is not None else optuna.trial.TrialState.FAIL
            self.study_.add_trial(optuna.trial.create_trial(
                params={name: v for name, (_, v) in params.items()}, distributions=dists, value=value, state=state))

    def _tell_study(self, trial: Any, value: float | None) -> None:
        if value is None:
            self.study_.tell(trial, state=_import_optuna("OptunaSampler").trial.TrialState.FAIL)
        else:
            self.study_.tell(trial, value)


def _stored_text(stored: Mapping[str, Any]) -> str:
    settings = stored.get("settings")
    shown = ", ".join(f"{k}={v!r}" for k, v in settings.items()) if isinstance(settings, Mapping) else ""
    return f"{stored.get('optuna_sampler', 'an unknown class')}({shown})"
