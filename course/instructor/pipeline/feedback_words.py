"""Words both feedback pages use (Markdown: :mod:`.outputs`; HTML: :mod:`.feedback_html`)."""

from __future__ import annotations

from . import attribution

__all__ = ["STATUS_WORDS", "CELL_HEADINGS", "page_notes"]

STATUS_WORDS = {
    "passed": "✔ passed",
    "failed": "✘ some cases wrong",
    "error": "✘ your function raised an error",
    "not_attempted": "○ not attempted",
    "missing": "✘ not found",
    "uses_reference": "✘ uses the course's reference implementation",
    "no_result": "✘ no result",
    "not_graded": "not graded",
}


CELL_HEADINGS = {True: "Your cells that failed (their own messages, as they raised them)",
                 False: "Lesson cells that failed while running your functions"}


def page_notes(g) -> list[str]:
    """The gradebook notes a feedback page lists under "Notes": the failed cells have their own section."""
    shown = set(attribution.as_notes(getattr(g, "cell_failures", [])))
    return [n for n in g.notes if n not in shown]
