"""Live progress of a running search: one ipywidgets box in a notebook, a tqdm bar elsewhere.

Both are views only (the search never depends on them) and both are throttled, so a tabular
search of thousands of trials per second is not slowed down by its display.
"""

from __future__ import annotations

import abc
import html
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasbook.search import Search
    from nasbook.trial import Trial

PROGRESS_CHOICES = ("auto", "widget", "bar", "none")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, papermill), False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _shell() -> bool:
    """True when an IPython shell (a kernel or a terminal IPython) displays outputs; False in a plain interpreter."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:
        return False
    return bool(InteractiveShell.initialized())


def progress_mode(progress: object, param: str = "progress") -> str | None:
    """``progress`` as one of ``"auto"``, ``"widget"``, ``"bar"``, or None for no progress.

    Parameters
    ----------
    progress : str or bool
        ``"auto"`` (a widget in a notebook, else a text bar), ``"widget"``, ``"bar"``, ``"none"``;
        ``True`` is ``"auto"`` and ``False`` is ``"none"``. Anything else is an error naming ``param``.
    param : str, default "progress"
        The argument's name, for that error.

    Returns
    -------
    str or None
        The mode; None for no progress.
    """
    from nasbook._errors import unknown_choice

    if progress is True:
        return "auto"
    if progress is False or progress == "none":
        return None
    if progress not in PROGRESS_CHOICES:
        raise unknown_choice(param, progress, PROGRESS_CHOICES)
    return progress  # type: ignore[return-value]


def make_progress(search: Search, progress: str | bool) -> Progress | None:
    """The progress view ``search.run(progress=...)`` shows, or None.

    Parameters
    ----------
    search : Search
        The running search; the view reads its in-memory state.
    progress : str or bool
        As for :func:`progress_mode`. ``"auto"`` picks the widget in a Jupyter kernel when
        ipywidgets imports, else the text bar; ``"widget"`` without ipywidgets raises ImportError.

    Returns
    -------
    Progress or None
        None when ``progress`` asks for none.
    """
    progress = progress_mode(progress)  # type: ignore[assignment]
    if progress is None:
        return None
    if progress == "widget" or (progress == "auto" and in_notebook()):
        try:
            return WidgetProgress(search)
        except ImportError:
            if progress == "widget":
                raise
    return BarProgress(search)


def _total(search: Search) -> tuple[int | None, str]:
    b = search.budget
    if b.trials is not None:
        return b.trials, "trials"
    if b.epochs is not None:
        return b.epochs, "epochs"
    return None, "trials"


def _done(search: Search, unit: str) -> int:
    return search.epochs_spent if unit == "epochs" else search.n_trials


def _queued(search: Search) -> str:
    """What a finished search left queued for ``extend()`` (its epochs budget had no room), or ""."""
    note = getattr(search, "_queued_note", None)
    return note() if callable(note) else ""


#: trial states that count as failures in the progress views
_FAILED = ("failed", "diverged")


class Progress(abc.ABC):
    """Live progress of a running search (a widget or a bar); ``search.run(progress=...)`` makes one.

    Parameters
    ----------
    search : Search
        The search whose in-memory state is shown.
    """

    min_interval_s = 0.2

    def __init__(self, search: Search):
        self.search = search
        self._last = 0.0

    def trial_finished(self, trial: Trial) -> None:
        """Called by the search after each finished trial; redraws at most every ``min_interval_s`` (0.2 s).

        Parameters
        ----------
        trial : Trial
            The trial just committed.
        """
        now = time.monotonic()
        if now - self._last >= self.min_interval_s:
            self._last = now
            self.refresh()

    @abc.abstractmethod
    def refresh(self) -> None:
        """Redraw from the search's in-memory state."""

    def close(self) -> None:
        """Called when the run ends: a last redraw, so the view shows the final state."""
        self.refresh()


class BarProgress(Progress):
    """A tqdm bar: in a terminal, in CI logs, or wherever widgets cannot render."""

    def __init__(self, search: Search):
        super().__init__(search)
        from tqdm.auto import tqdm

        total, self.unit = _total(search)
        self.bar = tqdm(total=total, initial=_done(search, self.unit), desc=search.name, unit=self.unit[:-1],
                        leave=True, mininterval=self.min_interval_s)
        # failures are counted as they finish (a resumed search starts from its stored ones), so a
        # run whose trials raise says so in the bar instead of looking healthy
        self.n_failed = sum(t.state.value in _FAILED for t in search.trials)

    def trial_finished(self, trial: Trial) -> None:
        self.n_failed += trial.state.value in _FAILED
        super().trial_finished(trial)

    def _update(self, end: bool = False) -> None:
        s = self.search
        self.bar.n = _done(s, self.unit)
        post = [f"best {s.best.value:.4g}"] if s.best is not None else []
        if self.n_failed:
            post.append(f"{self.n_failed} failed")
        if end and s.state.value == "interrupted":  # stopped or Ctrl-C: the last line says it can go on
            post.append("interrupted, resumable")
        if end and (queued := _queued(s)):  # the budget's end: what it could not run is not lost silently
            post.append(queued)
        self.bar.set_postfix_str(", ".join(post), refresh=False)

    def refresh(self) -> None:
        self._update()
        self.bar.refresh()

    def close(self) -> None:
        self._update(end=True)
        self.bar.close()  # draws the final line once (a refresh before it printed it twice)


def _sparkline(values: list[float], width: int = 220, height: int = 44, mode: str = "max", max_points: int = 300) -> str:
    """A tiny inline SVG of best-so-far against trials (no plotting library, works offline).

    At most ``max_points`` points are drawn (evenly spaced trials, the best-so-far taken over
    all of them), so a refresh stays cheap however long the search.
    """
    pts = [v for v in values if v == v]
    if len(pts) < 2:
        return ""
    best, run = [], pts[0]
    for v in pts:
        if v > run if mode == "max" else v < run:
            run = v
        best.append(run)
    n = len(pts) - 1
    idx = sorted({round(i * n / (max_points - 1)) for i in range(max_points)}) if len(pts) > max_points else range(len(pts))
    lo, hi = min(pts), max(pts)
    span = (hi - lo) or 1.0

    def x(i: int) -> float:
        return 2 + (width - 4) * i / n

    def y(v: float) -> float:
        return height - 2 - (height - 4) * (v - lo) / span

    dots = "".join(f"<circle cx='{x(i):.1f}' cy='{y(pts[i]):.1f}' r='1.2' fill='var(--jp-ui-font-color2, #999)'/>" for i in idx)
    line = " ".join(f"{x(i):.1f},{y(best[i]):.1f}" for i in idx)
    return (f"<svg width='{width}' height='{height}' role='img' aria-label='best so far'>{dots}"
            f"<polyline points='{line}' fill='none' stroke='var(--jp-brand-color1, #1976d2)' stroke-width='1.6'/></svg>")


def running_note(strategy: object, number: int) -> str:
    """What the strategy predicts for a running trial (``trial_attrs``), as one short line; "" when nothing."""
    try:
        attrs = strategy.trial_attrs(number)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the monitor never breaks a search
        return ""
    mean = attrs.get("predicted_final") if isinstance(attrs, dict) else None
    if not isinstance(mean, (int, float)):
        return ""
    std, ref, at = attrs.get("predicted_final_std"), attrs.get("predicted_reference"), attrs.get("predicted_at_epoch")
    text = f"{mean:.4g}" + (f" ± {std:.2g}" if isinstance(std, (int, float)) else "")
    if isinstance(ref, (int, float)):
        text += f" vs {ref:.4g}"
    if at is not None:
        text += f" (from {at} ep)"
    return text + (", stopped" if attrs.get("stopped_by_prediction") else "")


class WidgetProgress(Progress):
    """One ipywidgets box updated in place: progress, best so far, running trials, failures."""

    def __init__(self, search: Search):
        super().__init__(search)
        import ipywidgets as widgets
        from IPython.display import display

        total, self.unit = _total(search)
        self.bar = widgets.IntProgress(value=_done(search, self.unit), min=0, max=total or 1,
                                       description="", layout=widgets.Layout(width="50%"))
        self.label = widgets.HTML()
        self.body = widgets.HTML()
        self.box = widgets.VBox([widgets.HBox([self.bar, self.label]), self.body])
        self.box.add_class("nasbook-monitor")
        self.refresh()
        self.handle = None
        if _shell():  # a kernel renders the widget; a terminal IPython shows the bundle's text, not the widget's markup
            self.handle = display(self._bundle(), raw=True, display_id=True)
        else:  # a plain interpreter (a script): display() would print the widget's repr, a wall of markup
            print(self.summary_text(), flush=True)

    def _bundle(self) -> dict[str, object]:
        return {**self.box._repr_mimebundle_(), "text/plain": self.summary_text()}

    def state_html(self) -> str:
        s = self.search
        e = html.escape
        trials = s.trials
        failed = [t for t in trials if t.state.value in _FAILED]
        parts = []
        if s.best is not None:
            parts.append(f"<b>best</b> {e(s.metric)} = {s.best.value:.4g} (trial {s.best.number}, arch {e(s.best.arch.id)})")
        running = s.running
        if running:
            notes = {n: running_note(s.strategy, n) for n in running}
            extra = any(notes.values())
            rows = "".join(
                f"<tr><td>{n}</td><td>{ep + 1}</td><td>{e(', '.join(f'{k}={v:.3g}' for k, v in list(m.items())[:3]))}</td>"
                + (f"<td>{e(notes[n])}</td>" if extra else "") + "</tr>"
                for n, (ep, m) in sorted(running.items())[:8]
            )
            head = "<th>predicted final</th>" if extra else ""
            parts.append(f"<table><tr><th>running</th><th>epoch</th><th>last report</th>{head}</tr>{rows}</table>")
        spark = _sparkline([t.value if t.value is not None else float("nan") for t in trials], mode=s.mode)
        if spark:
            parts.append(spark)
        if failed:
            items = "".join(f"<li>trial {t.number} {t.state.value}: {e(t.reason or '')[:200]}</li>" for t in failed[-5:])
            parts.append(f"<details><summary>{len(failed)} failed</summary><ul>{items}</ul></details>")
        return "<div>" + "<br>".join(parts) + "</div>"

    def refresh(self) -> None:
        s = self.search
        done = _done(s, self.unit)
        self.bar.value = min(done, self.bar.max)
        total = self.bar.max if s.budget.trials is not None or s.budget.epochs is not None else None
        of = f" of {total}" if total else ""
        queued = _queued(s)
        self.label.value = (f"<span>{html.escape(s.name)}: <b>{html.escape(s.state.value)}</b>, "
                            f"{done}{of} {self.unit}{', ' + html.escape(queued) if queued else ''}</span>")
        self.body.value = self.state_html()

    def summary_text(self) -> str:
        s = self.search
        best = f", best {s.metric} {s.best.value:.4g} (arch {s.best.arch.id})" if s.best is not None else ""
        total = self.bar.max if s.budget.trials is not None or s.budget.epochs is not None else None
        failed = sum(t.state.value in _FAILED for t in s.trials)
        queued = _queued(s)
        return (f"{s.name}: {s.state.value}, {_done(s, self.unit)}{f' of {total}' if total else ''} {self.unit}{best}"
                + (f", {failed} failed" if failed else "") + (f", {queued}" if queued else ""))

    def close(self) -> None:
        """Replace the live widget by static output (HTML + text) that reads well anywhere.

        The executed notebook then holds no widget state for the monitor: a papermill report,
        GitHub or an HTML export shows the final state without a widget renderer.
        """
        self.refresh()
        bar = f"<progress value='{self.bar.value}' max='{self.bar.max}' style='width:50%'></progress> "
        html_out = f"<div class='nasbook-monitor'>{bar}{self.label.value}{self.body.value}</div>"
        bundle = {"text/plain": self.summary_text(), "text/html": html_out}
        if self.handle is not None:
            self.handle.update(bundle, raw=True)
        elif not _shell():  # a script: the final state, one line, as the bar's last line is
            print(self.summary_text(), flush=True)
        self.box.close()
