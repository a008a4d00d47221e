"""Helpers shared by the OptunaSampler tests."""


def fixed_sampler(optuna, pick):
    """An Optuna sampler that always answers ``pick(name, choices)``."""

    class Fixed(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            return pick(param_name, param_distribution.choices)

    return Fixed()
