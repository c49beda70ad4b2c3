"""Solution regions: ``### BEGIN SOLUTION`` / ``### END SOLUTION`` in code and markdown cells
become a ``raise NotImplementedError`` (with the hint) or ``YOUR ANSWER HERE`` (see :mod:`course.authoring`)."""

from __future__ import annotations

import json
import re

DEFAULT_POINTER = "write your solution here (replace this line)"
MARKDOWN_STUB = "YOUR ANSWER HERE"

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\b(?P<rest>.*)$")
_END = re.compile(r"^[ \t]*### END SOLUTION[ \t\r]*$")
_LOOKS_LIKE_MARKER = re.compile(r"(BEGIN|END)[ \t_]*SOLUTION", re.IGNORECASE)


class AuthoringError(ValueError):
    """A solution notebook cannot be turned into a learner notebook (the message says where)."""


# ---------------------------------------------------------------- solution regions


def where_text(where: str, index: int, source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"{where}, cell {index + 1} (counting from 1, starting {first!r})"


def _pointer(rest: str) -> str:
    """The hint written after ``### BEGIN SOLUTION``, e.g. ``(hint: use np.maximum)``."""
    hint = rest.strip()
    if hint.startswith("(") and hint.endswith(")"):
        hint = hint[1:-1].strip()
    hint = re.sub(r"^hint\s*:\s*", "", hint, flags=re.IGNORECASE)
    return f"{DEFAULT_POINTER}. Hint: {hint}" if hint else DEFAULT_POINTER


def _regions(source: str, where: str):
    """Yield ``(begin, end, indent, pointer)`` line numbers of each marked region."""
    lines = source.split("\n")
    begin = None
    for number, line in enumerate(lines):
        start, stop = _BEGIN.match(line), _END.match(line)
        if start:
            if begin is not None:
                raise AuthoringError(
                    f"{where}: ### BEGIN SOLUTION on line {number + 1} comes before the "
                    f"### END SOLUTION of the one on line {begin[0] + 1}"
                )
            begin = (number, start["indent"], _pointer(start["rest"]))
        elif stop:
            if begin is None:
                raise AuthoringError(
                    f"{where}: ### END SOLUTION on line {number + 1} has no ### BEGIN SOLUTION before it"
                )
            yield begin[0], number, begin[1], begin[2]
            begin = None
        elif _LOOKS_LIKE_MARKER.search(line):
            raise AuthoringError(
                f"{where}: line {number + 1} looks like a solution marker but is not one: "
                f"{line.strip()!r}; write exactly '### BEGIN SOLUTION' or '### END SOLUTION' "
                "at the start of the line"
            )
    if begin is not None:
        raise AuthoringError(
            f"{where}: ### BEGIN SOLUTION on line {begin[0] + 1} has no ### END SOLUTION"
        )


def region_text(source: str, where: str = "cell") -> str:
    """The text inside a cell's solution regions (a model answer), or the whole cell without any."""
    lines = source.split("\n")
    regions = list(_regions(source, where))
    if not regions:
        return source.strip()
    return "\n".join("\n".join(lines[b + 1:e]) for b, e, _, _ in regions).strip()


def _replace_regions(source: str, where: str, stub) -> tuple[str, bool]:
    lines = source.split("\n")
    out, position, found = [], 0, False
    for begin, end, indent, pointer in _regions(source, where):
        out += lines[position:begin]
        out.append(stub(indent, pointer))
        position, found = end + 1, True
    out += lines[position:]
    return "\n".join(out), found


def _raise_line(indent: str, pointer: str) -> str:
    return f"{indent}raise NotImplementedError({json.dumps(pointer, ensure_ascii=False)})"


def strip_code(source: str, *, whole_cell: bool = False, where: str = "cell") -> str:
    """A code cell's learner version: each solution region becomes a ``raise NotImplementedError``.

    With ``whole_cell`` (a cell tagged ``solution``) and no markers, the leading comment and
    blank lines stay and the rest of the cell becomes the ``raise``.
    """
    stripped, found = _replace_regions(source, where, _raise_line)
    if found or not whole_cell:
        return stripped
    lines = source.split("\n")
    keep = 0
    while keep < len(lines) and (not lines[keep].strip() or lines[keep].lstrip().startswith("#")):
        keep += 1
    head = "\n".join(lines[:keep]).rstrip()
    stub = _raise_line("", DEFAULT_POINTER)
    return f"{head}\n{stub}" if head else stub


def strip_markdown(source: str, *, whole_cell: bool = False, where: str = "cell") -> str:
    """A markdown cell's learner version: each marked region (or the whole tagged cell) becomes
    ``YOUR ANSWER HERE``."""
    stripped, found = _replace_regions(source, where, lambda indent, pointer: MARKDOWN_STUB)
    if found or not whole_cell:
        return stripped
    return MARKDOWN_STUB
