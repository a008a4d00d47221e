"""The plug-ins of benchmarks/outside_probe6a.py, written as tutorial 08 and docs/search-loop.md say (a module of
its own, importable by dask workers and by the contracts' fresh interpreters)."""
import itertools

import numpy as np

import nasbook
from nasbook import InvalidArchitectureError
from nasbook.predictors import BasePredictor
from nasbook.space import Architecture, SearchSpace, stable_hash
from nasbook.strategies import WAIT, BaseStrategy
from nasbook.tasks import Result, Task


class WidthChain(SearchSpace):
    """``n_layers`` layers in a row, each with a width taken from ``widths``."""

    name = "widthchain"
    ENCODING_VERSIONS = {"adjacency": 1, "log_width": 1}

    def __init__(self, n_layers=3, widths=(16, 32, 64, 128)):
        self.n_layers = n_layers
        self.widths = tuple(widths)

    @property
    def cardinality(self):
        return len(self.widths) ** self.n_layers

    def make(self, **spec):
        layers = spec.get("layers")
        if set(spec) != {"layers"} or not isinstance(layers, (list, tuple)) or len(layers) != self.n_layers \
                or any(w not in self.widths for w in layers):
            raise InvalidArchitectureError(f"{spec!r} is not {self.n_layers} widths from {self.widths}")
        canonical = {"layers": [int(w) for w in layers]}
        return Architecture(self.space_id, stable_hash(canonical), canonical)

    def sample(self, rng):
        return self.make(layers=[self.widths[int(i)] for i in rng.integers(len(self.widths), size=self.n_layers)])

    def neighbours(self, arch):
        arch = self.validate(arch)
        layers = list(arch["layers"])
        return [self.make(layers=layers[:i] + [w] + layers[i + 1:])
                for i, w in itertools.product(range(self.n_layers), self.widths) if w != layers[i]]

    def _encode(self, arch, kind):
        layers = arch["layers"]
        if kind == "log_width":
            return np.log2(np.array(layers, dtype=np.float32))
        onehot = np.zeros((self.n_layers, len(self.widths)), dtype=np.float32)
        for i, w in enumerate(layers):
            onehot[i, self.widths.index(w)] = 1.0
        return onehot.ravel()

    def _encoding_size(self, kind):
        return self.n_layers if kind == "log_width" else self.n_layers * len(self.widths)


class NoEncode(SearchSpace):
    """A space that forgets ``_encode`` and ``_encoding_size`` (abstract: cannot be built)."""

    name = "noencode"

    def __init__(self):
        pass

    cardinality = 2

    def make(self, **spec):
        return Architecture(self.space_id, stable_hash(spec), dict(spec))

    def sample(self, rng):
        return self.make(x=int(rng.integers(2)))

    def neighbours(self, arch):
        return []


class HillClimb(BaseStrategy):
    """Hill climbing with restarts (tutorial 08)."""

    def __init__(self, n_init=10, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_init = n_init

    def _setup(self):
        self.current_ = None
        self.restarts_ = 0

    def _ask(self):
        if self.current_ is None or self.n_told_ < self.n_init:
            return self._sample_new()
        unseen = [a for a in self.space_.neighbours(self.current_[1]) if self._is_new(a)]
        if unseen:
            return unseen[int(self.rng_.integers(len(unseen)))]
        arch = self._sample_new()
        self.current_ = (float("-inf"), arch)
        self.restarts_ += 1
        return arch

    def _tell(self, trial):
        score = self._score(trial)
        if self.current_ is None or score > self.current_[0]:
            self.current_ = (score, trial.arch)


class OtherClimb(HillClimb):
    """Another class, to take a name HillClimb holds."""


class Greedy(BaseStrategy):
    """docs/search-loop.md's example."""

    def __init__(self, n_init=5, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_init = n_init

    def _setup(self):
        self.best_ = None

    def _ask(self):
        if self.best_ is None or self.n_told_ < self.n_init:
            return self._sample_new()
        parent = self.best_[1]
        return self._sample_new(lambda: self.space_.mutate(parent, self.rng_))

    def _tell(self, trial):
        if trial.value is not None and (self.best_ is None or self._score(trial) > self.best_[0]):
            self.best_ = (self._score(trial), trial.arch)


class NoAsk(BaseStrategy):
    """Forgets ``_ask``."""


class AskNone(BaseStrategy):
    def _ask(self):
        return None


class AskString(BaseStrategy):
    def _ask(self):
        return "not an architecture"


class AskDict(BaseStrategy):
    def _ask(self):
        return dict(self.space_.sample(self.rng_).spec)


class AskOther(BaseStrategy):
    """Proposes members of another space (a CellSpace)."""

    def _ask(self):
        from nasbook.space import CellSpace
        return CellSpace().sample(self.rng_)


class AskForged(BaseStrategy):
    """Proposes an Architecture with the space's id and a spec that is no member."""

    def _ask(self):
        return Architecture(self.space_.space_id, "forged-" + str(self.n_told_), {"bogus": [1, 2, 3]})


class AskSame(BaseStrategy):
    """Proposes the same architecture every time (duplicates, without allow_duplicates)."""

    def _setup(self):
        self.first_ = None

    def _ask(self):
        if self.first_ is None:
            self.first_ = self.space_.sample(self.rng_)
        return self.first_


class AskRaises(BaseStrategy):
    def _ask(self):
        if self.n_told_ >= 2:
            raise RuntimeError("probe: _ask broke")
        return self._sample_new()


class TellRaises(BaseStrategy):
    def _ask(self):
        return self._sample_new()

    def _tell(self, trial):
        if self.n_told_ >= 2:
            raise RuntimeError("probe: _tell broke")


class AskWait(BaseStrategy):
    def _ask(self):
        return WAIT


class AskExhausted(BaseStrategy):
    def _ask(self):
        if self.n_told_ >= 2:
            raise nasbook.SpaceExhausted("probe: nothing left")
        return self._sample_new()


class LostParam(BaseStrategy):
    """Keeps its constructor argument under another name (breaks the contract)."""

    def __init__(self, k=3, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.k_hidden = k

    def _ask(self):
        return self._sample_new()


class KNN(BasePredictor):
    """k nearest neighbours (tutorial 08)."""

    def __init__(self, k=10, features="auto", target="rank", calibration="cv", seed=None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.k = k

    def _fit(self, X, z):
        from sklearn.neighbors import NearestNeighbors

        self.center_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        self.nn_ = NearestNeighbors(n_neighbors=min(self.k, len(z))).fit((X - self.center_) / self.scale_)
        self.z_ = np.asarray(z, dtype=float)

    def _predict(self, X):
        _, idx = self.nn_.kneighbors((X - self.center_) / self.scale_)
        near = self.z_[idx]
        return near.mean(axis=1), near.std(axis=1) + 1e-6


class MeanOnly(KNN):
    """``_predict`` returns the mean alone, not (mean, std)."""

    def _predict(self, X):
        return super()._predict(X)[0]


class ShortPredict(KNN):
    """``_predict`` returns one row too few."""

    def _predict(self, X):
        m, s = super()._predict(X)
        return m[:-1], s[:-1]


class NaNPredict(KNN):
    def _predict(self, X):
        m, s = super()._predict(X)
        return np.full_like(m, np.nan), s


class NegativeStd(KNN):
    def _predict(self, X):
        m, s = super()._predict(X)
        return m, -s - 1.0


class FitRaises(KNN):
    def _fit(self, X, z):
        raise RuntimeError("probe: _fit broke")


class NoPredict(BasePredictor):
    """Forgets ``_predict``."""

    def _fit(self, X, z):
        pass


class Quadratic(Task):
    """A task of one's own (docs/search-loop.md, "Writing a task"): a smooth function of a WidthChain."""

    metric = "score"
    mode = "max"
    has_epochs = False
    max_epochs = None

    def __init__(self, offset=0.0):
        self.offset = offset

    def check(self):
        if not isinstance(self.offset, (int, float)):
            raise nasbook.InvalidParameterError(f"offset must be a number; got {self.offset!r}")

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        x = np.log2(np.array(arch["layers"], dtype=float))
        return Result(float(-((x - 5.0) ** 2).sum()) + self.offset)


class FloatTask(Quadratic):
    """Returns a float, not a Result."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return super().evaluate(arch).value


class NoneTask(Quadratic):
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return None


class NaNTask(Quadratic):
    """Every other architecture scores NaN."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return Result(float("nan") if int(arch.id[-1], 16) % 2 else super().evaluate(arch).value)


class StringValueTask(Quadratic):
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return Result("0.5")


class RaisesTask(Quadratic):
    """Raises a plain error for every other architecture."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        if int(arch.id[-1], 16) % 2:
            raise ValueError("probe: evaluate broke")
        return super().evaluate(arch)


class BadModeTask(Quadratic):
    mode = "maximise"


class EpochTask(Quadratic):
    """Pretends to train for epochs, reporting a rising curve."""

    has_epochs = True
    max_epochs = 4

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        final = super().evaluate(arch).value
        epochs = int((fidelity or {}).get("epochs", self.max_epochs))
        curve = [final * (1 + 1.0 / (e + 1)) for e in range(epochs)]
        for e, v in enumerate(curve):
            if report is not None and report(e, score=v) == nasbook.tasks.Decision.STOP:
                curve = curve[:e + 1]
                break
        return Result(curve[-1], epochs=len(curve), curves={"score": curve})


class DigitsRaises(nasbook.tasks.Digits):
    """Digits whose every other architecture raises in evaluate."""

    def evaluate(self, arch, **kw):
        if int(arch.id[-1], 16) % 2:
            raise RuntimeError("probe: training broke")
        return super().evaluate(arch, **kw)


class SampleOther(WidthChain):
    """A space whose ``sample`` returns members of another space (a bug of the space)."""

    def sample(self, rng):
        from nasbook.space import CellSpace

        return CellSpace().sample(rng)


class SetupRaises(BaseStrategy):
    def _setup(self):
        raise RuntimeError("probe: _setup broke")

    def _ask(self):
        return self._sample_new()


class SilentEpochs(Quadratic):
    """Says it trains for epochs but never reports one."""

    has_epochs = True
    max_epochs = 3

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return super().evaluate(arch)


class WrongMetricReports(EpochTask):
    """Reports per epoch under a metric name that is not the task's metric."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        final = Quadratic.evaluate(self, arch).value
        epochs = int((fidelity or {}).get("epochs", self.max_epochs))
        for e in range(epochs):
            if report is not None:
                report(e, loss=final)
        return Result(final, epochs=epochs, curves={"score": [final] * epochs})


class ProposeEpochs(BaseStrategy):
    """Proposes every new architecture as ``Proposal(arch, epochs=self.epochs)``."""

    def __init__(self, epochs=2, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.epochs = epochs

    def _ask(self):
        from nasbook.trial import Proposal

        return Proposal(self._sample_new(), epochs=self.epochs)


class ContinueMissing(BaseStrategy):
    """Asks to continue a trial number that does not exist (``Proposal(parent=99)``)."""

    def _ask(self):
        from nasbook.trial import Proposal

        return Proposal(self._sample_new(), epochs=3, parent=99)


class NeedsEpochs(HillClimb):
    needs_epochs = "stops running trials from their per-epoch reports"


class SaltedChain(WidthChain):
    """Ids from Python's salted ``hash``: not the same in another interpreter (breaks the contract)."""

    name = "saltedchain"

    def make(self, **spec):
        arch = super().make(**spec)
        return Architecture(self.space_id, f"{hash(str(arch['layers'])) & 0xFFFFFFFFFFFF:012x}", arch.spec)


class Hoarder(KNN):
    """Keeps the architectures of every fit (a second fit does not forget the first: breaks the contract)."""

    def _fit(self, X, z):
        self.all_X_ = np.vstack([getattr(self, "all_X_", np.zeros((0, X.shape[1]))), X])
        self.all_z_ = np.concatenate([getattr(self, "all_z_", np.zeros(0)), z])
        super()._fit(self.all_X_, self.all_z_)


class StopAfter(BaseStrategy):
    """Random proposals; ``on_report`` answers ``answer`` from epoch ``after`` on (an early-stopping rule of one's own)."""

    needs_epochs = "stops running trials from their per-epoch reports"

    def __init__(self, after=1, answer="STOP", seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.after, self.answer = after, answer

    def _ask(self):
        return self._sample_new()

    def on_report(self, number, epoch, metrics):
        from nasbook.trial import Decision

        if epoch < self.after:
            return Decision.CONTINUE
        return {"STOP": Decision.STOP, "none": None, "str": "stop", "true": True}[self.answer]
