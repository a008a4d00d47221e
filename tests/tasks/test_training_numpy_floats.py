"""Training tasks take numpy floats of any width for ``lr`` and ``weight_decay``, stored as plain floats (outside
probe 6a: ``np.float64`` passed, as a subclass of float, but ``Digits(weight_decay=np.float32(1e-4))`` was refused
as "must be a finite number >= 0")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbook import InvalidParameterError
from nasbook.tasks import MNIST1D, Digits


@pytest.mark.parametrize("cls", [Digits, MNIST1D])
@pytest.mark.parametrize("kind", [np.float32, np.float16, np.int64])
def test_numpy_numbers_are_taken_and_stored_plain(cls, kind):
    task = cls(lr=kind(1), weight_decay=kind(0))
    params = json.loads(json.dumps(task.to_config()))["params"]
    assert (params["lr"], params["weight_decay"]) == (1.0, 0.0)
    assert type(task.lr) in (int, float) and type(task.weight_decay) in (int, float)


def test_numpy_values_outside_the_range_are_still_refused():
    with pytest.raises(InvalidParameterError, match=r"weight_decay=\.\.\.\) must be a finite number >= 0"):
        Digits(weight_decay=np.float32(-1))
    with pytest.raises(InvalidParameterError, match=r"lr=\.\.\.\) must be a finite number > 0"):
        Digits(lr=np.float32("nan"))
