"""A learner cell's source as plain Python, for the scan (:mod:`.extract`, :mod:`.copies`), in time
linear in its length.

IPython's own input transformation (``TransformerManager.transform_cell``) costs the cell's size
times the number of magic, shell-escape and help lines in it: a thousand ``%time`` lines kept it
busy for minutes. Here it is given one such line at a time; everything else is left as it is.
A cell over :data:`MAX_CELL_CHARS` is not scanned at all (it still runs, in the sandbox).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["python_source", "MAX_CELL_CHARS"]

MAX_CELL_CHARS = 1_000_000
MAX_SPECIAL_LINES = 200  # lines given to IPython per cell; the others become ``pass`` (for the scan only)
_SPECIAL = re.compile(r"^\s*([%!]|[\w.]+\s*=\s*[%!])|\?\s*$")


@lru_cache(maxsize=1024)
def _transform(line: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(line[:10_000] + "\n").rstrip("\n")
    except Exception:
        return "pass"


def _ipython_line(line: str, budget: list) -> str:
    """One line with a magic, a shell escape or a help request as IPython runs it (``pass``
    without IPython, for a line it cannot transform, or once the cell's budget of lines is
    spent), with the line's indentation."""
    indent = line[: len(line) - len(line.lstrip())]
    budget[0] -= 1
    out = _transform(line.strip()) if budget[0] >= 0 else "pass"
    return "\n".join(indent + x for x in out.splitlines()) or indent + "pass"


def python_source(source: str) -> str:
    """Magics, shell escapes and help requests become IPython's ``get_ipython()`` calls, line by
    line; a cell magic (``%%``) one call whose body is text, as in IPython."""
    if len(source) > MAX_CELL_CHARS:
        return ""
    if source.lstrip().startswith("%%"):
        first, _, body = source.lstrip().partition("\n")
        name, _, args = first[2:].partition(" ")
        return f"get_ipython().run_cell_magic({name!r}, {args!r}, {body!r})"
    lines = source.splitlines()
    if not any(_SPECIAL.search(line) for line in lines):
        return source
    budget = [MAX_SPECIAL_LINES]
    return "\n".join(_ipython_line(line, budget) if _SPECIAL.search(line) else line for line in lines)
