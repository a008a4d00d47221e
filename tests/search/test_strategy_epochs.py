"""A multi-fidelity schedule that goes past a table's epochs is refused when the search is made,
not at its first promotion to the missing epochs, trials into the run."""

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.strategies import ASHA, CurveStopping, Hyperband
from nasbook.tasks import DigitsTable


@pytest.mark.parametrize("strategy", ["asha", "hyperband", "sh", ASHA(max_epochs=27), CurveStopping(base=Hyperband(max_epochs=10))])
def test_a_schedule_past_the_tables_epochs_is_refused_before_any_trial(strategy, tmp_path):
    db = tmp_path / "s.db"
    with pytest.raises(InvalidParameterError, match=r"max_epochs=\.\.\.\) schedules trials of up to (27|10) epochs, but "
                                                    r"DigitsTable.* recorded 9 epochs.*max_epochs=9"):
        nasbook.Search(DigitsTable(), strategy=strategy, budget={"epochs": 300}, seed=0, storage=str(db), name="s")
    assert not db.exists() or "s" not in nasbook.KnowledgeBase(str(db)).searches["search"].tolist()


def test_a_schedule_within_the_tables_epochs_runs():
    search = nasbook.Search(DigitsTable(), strategy=ASHA(max_epochs=9), budget={"epochs": 60}, seed=0, storage=":memory:")
    assert max(t.epochs for t in search.run(progress="none").trials) <= 9


@pytest.mark.parametrize("base", ["hyperband", {"alias": "asha"}, {"class": "ASHA", "params": {"max_epochs": 27}}])
def test_a_wrapped_schedule_given_by_name_or_configuration_is_refused_too(base):
    """Only a base given as an instance was checked: by name or stored configuration it ran until its
    first promotion to 27 epochs and failed there (DigitsTable.evaluate(fidelity['epochs']=...))."""
    with pytest.raises(InvalidParameterError, match=r"^(Hyperband|ASHA)\(max_epochs=\.\.\.\) schedules trials of up to 27 epochs, "
                                                    r"but DigitsTable.* recorded 9 epochs.*max_epochs=9"):
        nasbook.Search(DigitsTable(), strategy=CurveStopping(base=base), budget=5, seed=0, storage=":memory:")
    ok = CurveStopping(base={"class": "ASHA", "params": {"max_epochs": 9}})
    assert nasbook.Search(DigitsTable(), strategy=ok, budget=5, seed=0, storage=":memory:")
