"""The on_start hook: a strategy learns which architecture each trial number trains, before its reports."""

import nasbook
from nasbook.strategies import RandomSearch
from nasbook.tasks import Decision
from nasbook.tasks._table import DigitsTable


class Recorder(RandomSearch):
    def _setup(self):
        super()._setup()
        self.started = {}
        self.reported_unknown = 0

    def on_start(self, number, proposal):
        assert number not in self.started
        self.started[number] = proposal.arch

    def on_report(self, number, epoch, metrics):
        self.reported_unknown += number not in self.started
        return Decision.CONTINUE


def test_on_start_maps_every_trial_number_to_its_architecture_before_any_report():
    rule = Recorder()
    s = nasbook.Search(DigitsTable(), strategy=rule, budget=5, seed=0, storage=":memory:").run(progress="none")
    assert len(s.trials) == 5
    assert {n: a.id for n, a in rule.started.items()} == {t.number: t.arch.id for t in s.trials}
    assert rule.reported_unknown == 0


def test_wrappers_pass_on_start_to_their_base():
    from nasbook.strategies import ASHA

    base = Recorder()
    rule = ASHA(base=base, min_epochs=1, max_epochs=9, eta=3)
    s = nasbook.Search(DigitsTable(), strategy=rule, budget=20, seed=0, storage=":memory:").run(progress="none")
    assert {n: a.id for n, a in rule.base_.started.items()} == {t.number: t.arch.id for t in s.trials}
