"""The notebook view of a predictor: model, training, features, last scores, predicted vs true."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasbook.display import Drawing, Fields, Section, View, fmt_duration, fmt_value, param_repr

if TYPE_CHECKING:
    from nasbook.predictors._base import BasePredictor

_LABELS = {
    "kendall_tau": "Kendall tau", "spearman": "Spearman", "top_k_overlap": "top-1% overlap",
    "coverage_68": "68% interval coverage", "coverage_95": "95% interval coverage", "nll": "NLL",
}


def predictor_view(p: BasePredictor) -> View:
    fitted = hasattr(p, "n_train_")
    model = getattr(p, "model_", None)
    overview = [("model", type(model).__name__ if model is not None else param_repr(getattr(p, "model", type(p).__name__)))]
    if fitted:
        overview += [
            ("trained on", f"{p.n_train_} architectures"),
            ("space", p.space_.space_id),
            ("features", f"{' + '.join(p.features_)} ({p.n_features_in_} columns)"),
            ("encoding versions", ", ".join(p.feature_versions_)),
            ("spread calibration", f"x{p.std_scale_:.3g}" if p.calibration == "cv" else "none"),
            ("fit time", fmt_duration(p.fit_time_s_)),
        ]
    sections = [Section("Overview", (Fields(tuple(overview)),))]
    sections.append(Section("Parameters", (Fields(tuple((k, param_repr(v)) for k, v in p.get_params().items())),)))
    scores = getattr(p, "scores_", None)
    if scores:
        rows = [(_LABELS.get(k, k), fmt_value(v)) for k, v in scores.items()]
        n = len(p.scored_[0]) if p.scored_ is not None else 0
        sections.append(Section("Last score", (Fields(tuple(rows)),), summary=f"{n} architectures"))
        if p.scored_ is not None:
            from nasbook.display import scatter_svg

            y, mean = p.scored_
            svg = scatter_svg(mean, y, x_label="predicted", y_label="true", diagonal=True)
            text = f"{len(y)} points, Kendall tau {fmt_value(scores['kendall_tau'])} (plot: nasbook.viz.plot_predictions)"
            sections.append(Section("Predicted vs true", (Drawing(svg, text),)))
    return View(title=type(p).__name__, badge="fitted" if fitted else "not fitted", sections=tuple(sections), kind="predictor")
