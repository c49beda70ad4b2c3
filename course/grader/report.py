"""The result of a check and how it shows itself: HTML in Jupyter, plain text elsewhere.

The first line always says pass or fail (or "not attempted yet"); then what is wrong, in words,
once per kind of mistake; then, collapsed, every case with expected vs got on a small slice, the
learner's traceback (grader frames removed) and the hints.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

from .compare.findings import CaseResult, Diagnosis

__all__ = ["Result", "result_json", "case_json", "diagnosis_json", "render_text", "render_html"]

#: findings stated case by case with their numbers; listed after the explanations
_REPEATED_FACTS = {"values", "trajectory"}

_COLORS = {"passed": "#1a7f37", "failed": "#cf222e", "not_attempted": "#9a6700", "error": "#cf222e"}


@dataclass
class Result:
    """What :func:`course.grader.check` found.

    - passed: every case is right; score / max_score: points earned (cases are weighted equally).
    - status: "passed", "failed", "error" (every case raised) or "not_attempted".
    - cases: one :class:`~course.grader.compare.CaseResult` per case.
    - diagnoses: the distinct findings, first occurrence of each (name, message).
    """

    exercise_id: str
    title: str
    lesson: str
    max_score: float
    cases: list = field(default_factory=list)
    hints: tuple = ()
    seed: int = 0
    message: str = ""  # a problem with the call itself (e.g. not a function)
    _shown_in: object = field(default=None, repr=False, compare=False)

    # -- verdict -----------------------------------------------------------------------------
    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and not self.message and self.n_passed == len(self.cases)

    @property
    def score(self) -> float:
        if self.message or not self.cases:
            return 0.0
        return round(self.max_score * self.n_passed / len(self.cases), 2)

    @property
    def status(self) -> str:
        if self.passed:
            return "passed"
        errors = [c.error for c in self.cases if c.error is not None]
        if any(e.not_implemented for e in errors):
            return "not_attempted"
        if self.cases and len(errors) == len(self.cases) and all(e.kind == "exception" for e in errors):
            return "error"
        return "failed"

    @property
    def diagnoses(self) -> list[Diagnosis]:
        seen, out = set(), []
        for c in self.cases:
            for d in c.diagnoses:
                if d.name not in seen:
                    seen.add(d.name)
                    out.append(d)
        return out

    @property
    def diagnosis_names(self) -> list[str]:
        return [d.name for d in self.diagnoses]

    def findings(self, facts: int = 2) -> list[tuple[Diagnosis, list[int]]]:
        """Distinct (diagnosis, case numbers) pairs: a message is listed with the cases that gave
        exactly it, never under another case's words. Explanations come first; a fact repeated
        case by case (values differ, the path leaves) shows ``facts`` messages, then one line
        naming the other cases."""
        groups: dict = {}
        for c in self.cases:
            for d in c.diagnoses:
                groups.setdefault(d.name, {}).setdefault(d.message, (d, []))[1].append(c.index + 1)
        first, later = [], []
        for name, msgs in groups.items():
            items = [(d, sorted(set(ks))) for d, ks in msgs.values()]
            if name in _REPEATED_FACTS and len(items) > facts:
                rest = sorted({k for _, ks in items[facts:] for k in ks})
                more = Diagnosis(name, f"... and the same kind of difference in case{'s' if len(rest) > 1 else ''} "
                                       f"{', '.join(map(str, rest))} (see the details).", items[0][0].fails)
                items = items[:facts] + [(more, rest)]
            (later if name in _REPEATED_FACTS else first).extend(items)
        return first + later

    def cases_with(self, name: str) -> list[int]:
        return [c.index + 1 for c in self.cases if any(d.name == name for d in c.diagnoses)]

    @property
    def headline(self) -> str:
        pts = f"{self.score:g}/{self.max_score:g} point{'s' if self.max_score != 1 else ''}"
        head = f"{self.exercise_id} ({self.title})"
        n = len(self.cases)
        if self.message:
            return f"✘ FAILED  {head}: {self.message} ({pts})"
        if self.status == "passed":
            return f"✔ PASSED  {head}: all {n} cases correct ({pts})"
        if self.status == "not_attempted":
            return (
                f"○ {head}: not attempted yet ({pts}). Replace `raise NotImplementedError` "
                "with your code, then run this cell again."
            )
        return f"✘ FAILED  {head}: {self.n_passed} of {n} cases correct ({pts})"

    def to_dict(self, *, cases: bool = False) -> dict:
        """A JSON-friendly summary (instructor grading, progress): :func:`result_json`."""
        return result_json(self, cases=cases)

    def __bool__(self):
        return self.passed

    # -- display -----------------------------------------------------------------------------
    def __str__(self):
        return render_text(self)

    def __repr__(self):
        return render_text(self)

    def _repr_html_(self):
        return render_html(self)

    def _ipython_display_(self):
        from IPython.display import display

        try:
            from IPython import get_ipython

            ip = get_ipython()
            count = ip.execution_count if ip is not None else None
        except Exception:
            count = None
        if self._shown_in is not None and self._shown_in == count:
            self._shown_in = None  # shown already by check() in this very cell: once is enough
            return
        display({"text/plain": render_text(self), "text/html": render_html(self)}, raw=True)


# ---------------------------------------------------------------------------------------------
# JSON: written once, for progress, instructor grading and its outputs


def diagnosis_json(d: Diagnosis, *, fails: bool = False) -> dict:
    """``{"name", "message"}`` (and ``"fails"`` when asked)."""
    out = {"name": d.name, "message": d.message}
    if fails:
        out["fails"] = d.fails
    return out


def case_json(c: CaseResult) -> dict:
    """One case: number (from 1), note, passed, diagnoses (with ``fails``), and the error if any."""
    out = {
        "case": c.index + 1,
        "note": c.note,
        "passed": bool(c.passed),
        "diagnoses": [diagnosis_json(d, fails=True) for d in c.diagnoses],
    }
    if c.error is not None:
        out["error"] = {"kind": c.error.kind, "type": c.error.type, "message": c.error.message,
                        "traceback": c.error.traceback}
    return out


def result_json(r: Result, *, cases: bool = False) -> dict:
    """A result: exercise, lesson, title, status, passed, score, max_score, seed, the distinct
    diagnoses, and with ``cases=True`` every case (:func:`case_json`)."""
    out = {
        "exercise": r.exercise_id,
        "lesson": r.lesson,
        "title": r.title,
        "status": r.status,
        "passed": r.passed,
        "score": r.score,
        "max_score": r.max_score,
        "seed": r.seed,
        "diagnoses": [diagnosis_json(d) for d in r.diagnoses],
    }
    if cases:
        out["cases"] = [case_json(c) for c in r.cases]
    return out

def _case_title(c: CaseResult) -> str:
    note = f" ({c.note})" if c.note else ""
    return f"case {c.index + 1}{note}: {'correct' if c.passed else 'wrong'}"


def render_text(r: Result, details: bool = True) -> str:
    lines = [r.headline]
    if r.status in ("passed", "not_attempted") and not any(not d.fails for d in r.diagnoses):
        return "\n".join(lines)
    if r.diagnoses:
        lines.append("What is wrong:" if not r.passed else "Remarks:")
        for d, where in r.findings():
            tail = f"  [{d.name}; case{'s' if len(where) > 1 else ''} {', '.join(map(str, where))}]"
            lines.append(f"  - {d.message}{tail}")
    if details and not r.passed:
        for c in r.cases:
            if c.passed:
                continue
            title = _case_title(c)
            lines.append(title[0].upper() + title[1:])
            for o in c.outputs:
                if not o.ok:
                    lines.append(f"    {o.name} expected: {_indent(o.expected, 6)}")
                    lines.append(f"    {o.name} got:      {_indent(o.got, 6)}")
            if c.error is not None and c.error.traceback:
                lines.append(_indent("    " + c.error.traceback, 4))
            break  # the first wrong case in full; the HTML view shows all of them
        if r.hints:
            lines.append("Hints:")
            lines += [f"  - {h}" for h in r.hints]
    return "\n".join(lines)


def _indent(text: str, n: int) -> str:
    return text.replace("\n", "\n" + " " * n)


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = (
    "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 13px; "
    "border-left: 5px solid {color}; padding: 6px 12px; margin: 4px 0; background: {bg};"
)


def _e(text) -> str:
    return html.escape(str(text))


def render_html(r: Result) -> str:
    color = _COLORS.get(r.status, "#cf222e") if not r.message else "#cf222e"
    bg = "#f0fff4" if r.passed else ("#fffbea" if r.status == "not_attempted" else "#fff5f5")
    parts = [f'<div class="course-check course-check-{r.status}" style="{_CSS.format(color=color, bg=bg)}">']
    parts.append(f'<div style="font-weight: bold; color: {color}; font-size: 14px">{_e(r.headline)}</div>')
    if r.diagnoses and (r.status != "not_attempted"):
        title = "What is wrong" if not r.passed else "Remarks"
        parts.append(f'<div style="margin-top: 4px">{title}:</div><ul style="margin: 2px 0">')
        for d, where in r.findings():
            parts.append(
                f'<li><span class="diagnosis" data-name="{_e(d.name)}">{_e(d.message)}</span> '
                f'<span style="color: #666">[{_e(d.name)}; case{"s" if len(where) > 1 else ""} '
                f'{", ".join(map(str, where))}]</span></li>'
            )
        parts.append("</ul>")
    plot = _plot_html(r) if not r.passed else ""
    if plot:
        parts.append(plot)
    if r.cases and r.status != "not_attempted":
        parts.append(f"<details><summary>Details: {r.n_passed} of {len(r.cases)} cases correct</summary>")
        parts.append('<table style="border-collapse: collapse; margin: 4px 0">')
        for c in r.cases:
            mark = "✔" if c.passed else "✘"
            cc = _COLORS["passed"] if c.passed else _COLORS["failed"]
            parts.append(
                f'<tr style="border-top: 1px solid #ddd"><td style="color: {cc}; vertical-align: top; '
                f'padding: 3px 6px">{mark}</td><td style="text-align: left; padding: 3px 6px">'
                f"<b>case {c.index + 1}</b> {_e(c.note)}"
            )
            for d in c.diagnoses:
                parts.append(f"<div>{_e(d.message)}</div>")
            for o in c.outputs:
                if not o.ok:
                    parts.append(
                        f'<div style="display: flex; gap: 16px"><div><i>{_e(o.name)} expected</i>'
                        f"<pre>{_e(o.expected)}</pre></div><div><i>{_e(o.name)} got</i>"
                        f"<pre>{_e(o.got)}</pre></div></div>"
                    )
            if c.error is not None and c.error.traceback:
                parts.append(f'<pre style="color: #8b0000">{_e(c.error.traceback)}</pre>')
            parts.append("</td></tr>")
        parts.append("</table></details>")
    if r.hints and not r.passed and r.status != "not_attempted":
        items = "".join(f"<li>{_e(h)}</li>" for h in r.hints)
        parts.append(f"<details><summary>Hints</summary><ul>{items}</ul></details>")
    parts.append("</div>")
    return "".join(parts)


def _plot_html(r: Result) -> str:
    """Both paths of the first failing optimizer case (2-D only), as an embedded PNG."""
    for c in r.cases:
        if not c.passed and c.plot is not None and c.plot["expected"].shape[1] == 2:
            try:
                return f'<img alt="paths" src="data:image/png;base64,{_path_png(c.plot)}"/>'
            except Exception:  # a plot is a bonus: never let it break the report
                return ""
    return ""


def _path_png(plot: dict) -> str:
    buf = io.BytesIO()
    path_figure(plot).savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def path_figure(plot: dict):
    """The report's figure of both paths: ``plot`` holds ``expected`` and ``got`` (K + 1, 2),
    ``step`` (the first step that differs, or None) and ``function`` (a name for the title)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.2), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    exp, got = plot["expected"], plot["got"]
    ax.plot(exp[:, 0], exp[:, 1], "o-", ms=3, color="#1a7f37", label="expected")
    ok = np.all(np.isfinite(got), axis=1)
    ax.plot(got[ok, 0], got[ok, 1], "x--", ms=4, color="#cf222e", label="yours")
    k = plot.get("step")
    if k is not None and k < len(got) and ok[k]:
        ax.plot(got[k, 0], got[k, 1], "s", mfc="none", ms=9, color="#cf222e", label=f"first difference (step {k})")
    ax.plot(exp[0, 0], exp[0, 1], "k*", ms=8)
    ax.set_title(f"{plot.get('function', '')}: w over the steps", fontsize=9)
    ax.set_xlabel("w[0]", fontsize=8)
    ax.set_ylabel("w[1]", fontsize=8)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig
