"""Helpers for lesson notebooks: demos that need the learner's code, so that Run All reaches the end.

A demo cell that calls a function the learner has not written yet would stop Run All with
``NotImplementedError``. Wrap such a demo in :func:`needs`::

    from course.notebook import needs

    with needs("optim.adagrad"):                 # the exercise(s) whose functions the demo calls
        mine = trajectory(adagrad, quadratic, 30, lr=1.0)
        print("first step:", mine[1] - mine[0])

In a learner notebook whose ``adagrad`` is still the stub, the cell prints one line, "This demo
needs your answer to Exercise optim.adagrad (AdaGrad): finish it above, then run this cell again",
closes any figure the demo had started, and Run All goes on. Once the function is written the
demo runs as usual; any other exception is the learner's to see and passes through unchanged.

A cell that needs an optional extra (lesson 20: PyTorch) uses :func:`needs_extra` instead: where
the extra's package is not installed, the block's error gives way to one line saying how to
install it (``pip install "backprop-course[torch]"``).
"""

from __future__ import annotations

import html
import importlib.util
import sys
from contextlib import contextmanager

from .extras import extra_message

__all__ = ["needs", "needs_extra", "extra_message", "unlock_message", "banner_html"]


def _title(exercise_id: str) -> str:
    try:
        from .grader.registry import get

        return get(exercise_id).title
    except Exception:  # an id that is not (yet) registered still gets a readable line
        return ""


def unlock_message(*exercise_ids: str) -> str:
    """The one line shown in place of a demo: which exercise(s) to finish to see it."""
    parts = []
    for eid in exercise_ids:
        title = _title(eid)
        parts.append(f"{eid} ({title})" if title else eid)
    if not parts:
        return "This demo needs an exercise you have not written yet: finish it above, then run this cell again."
    which = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    noun = "Exercise" if len(parts) == 1 else "Exercises"
    return f"This demo needs your answer to {noun} {which}: finish it above, then run this cell again."


def banner_html(message: str) -> str:
    """The demo's place holder in Jupyter: text and CSS only (no emoji: it needs no emoji font)."""
    return ('<div class="course-needs" style="color:#7d4e00;background:#fff8c5;border-left:4px solid #9a6700;'
            'padding:3px 8px;font-family:sans-serif"><b style="letter-spacing:.04em">DEMO LOCKED</b> '
            f"{html.escape(message)}</div>")


def _show(message: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            display(HTML(banner_html(message)))
            return
    except Exception:
        pass
    print(message)


@contextmanager
def needs(*exercise_ids: str):
    """Run the ``with`` block; if it raises ``NotImplementedError`` (an unwritten exercise), show
    which exercise unlocks the demo instead of a traceback, and close the figures it opened."""
    before = _figures()
    try:
        yield
    except NotImplementedError:
        _close_new_figures(before)
        _show(unlock_message(*exercise_ids))


@contextmanager
def needs_extra(extra: str, *exercise_ids: str, module: str | None = None):
    """Like :func:`needs`; and where ``module`` (default: the extra's name) cannot be imported,
    any error of the block is replaced by :func:`extra_message` (figures it opened are closed)."""
    try:
        present = importlib.util.find_spec(module or extra) is not None
    except (ImportError, ValueError):
        present = False
    if present:
        with needs(*exercise_ids):
            yield
        return
    before = _figures()
    try:
        yield
    except Exception:
        _close_new_figures(before)
    _show(extra_message(extra))


def _figures() -> set:
    """The numbers of the open matplotlib figures (none when pyplot was never imported)."""
    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt is not None else set()


def _close_new_figures(before: set) -> None:
    """Close the figures a failed block opened (a half-drawn demo must not show)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        for num in _figures() - before:
            plt.close(num)
