"""One quoting discipline for learner data, one function per exit.

Everything a learner controls (submission names, notebook metadata, cell errors, exception
messages, the repr of a returned object) reaches instructor- and learner-facing text only through
these functions, each for one kind of output:

- :func:`csv_cell`: a spreadsheet cell (gradebook.csv, class_report.csv) that is never run as a
  formula (OWASP's rule: a leading ``'`` before ``= + - @``, tab or CR);
- :func:`html_text`: HTML text or attribute (the class report's page);
- :func:`md_text`, :func:`md_code`: Markdown (feedback pages, Gradescope output, manual-grading
  pages): one line, no HTML, links or emphasis; a code span no backtick in the text can end;
- :func:`terminal`: text printed to the grader's terminal: C0/C1 controls, escape sequences,
  bidirectional overrides and line breaks shown as ``\\x1b``-style escapes, never sent raw;
- :func:`plot_text`: text drawn by matplotlib: math text (``$...$``) cannot be parsed;
- :func:`file_name`: a file name for a submission, injective (two names that clean to the same
  text get different files: a short hash of the real name is added whenever it was changed);
- JSON (grades.json, Gradescope's results.json) is written with :func:`json.dumps`, which quotes.
"""

from __future__ import annotations

import hashlib
import html
import re

__all__ = ["one_line", "csv_cell", "csv_uncell", "html_text", "md_text", "md_code", "longest_run", "terminal",
           "plot_text", "file_name", "FORMULA"]

FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MD_ACTIVE = re.compile(r"([*\[\]\\])")  # emphasis, links, and the backslash that would undo an escape
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def one_line(text, n: int = 160) -> str:
    """``text`` as one line (every run of whitespace, line breaks included, one space), cut to
    ``n``, with every character that is not printable shown as an escape (see :func:`terminal`)."""
    t = " ".join(str(text).split())
    t = t if len(t) <= n else t[: n - 3] + "..."
    return t if t.isprintable() else "".join(c if c.isprintable() else _escape(c) for c in t)


def csv_cell(text) -> str:
    """A spreadsheet cell that a spreadsheet will not run as a formula."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA) else text


def csv_uncell(text: str) -> str:
    """What :func:`csv_cell` was given (a file the instructor filled in is read back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA) else text


def html_text(text, n: int | None = None) -> str:
    """HTML-escaped text (quotes included: safe in attributes too), one line when ``n`` is given;
    every character that is not printable (but line breaks) shown as an escape, as on a terminal."""
    if n is not None:
        t = one_line(text, n)
    else:
        t = str(text)
        t = t if t.isprintable() else "".join(c if c.isprintable() or c == "\n" else _escape(c) for c in t)
    return html.escape(t, quote=True)


def md_text(text, n: int = 400) -> str:
    """One line of Markdown text with no HTML, links or emphasis in it (one line: no heading,
    no block of any kind)."""
    return _MD_ACTIVE.sub(r"\\\1", html.escape(one_line(text, n), quote=False))


def longest_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def md_code(text, n: int = 160) -> str:
    """A Markdown code span of ``text`` that no backtick in it can end (CommonMark: a longer fence)."""
    t = one_line(text, n)
    fence = "`" * (longest_run(t) + 1)
    return f"{fence} {t} {fence}"


def _escape(c: str) -> str:
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else (f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")


def terminal(text, n: int = 300) -> str:
    """Text safe to print on a terminal: every character that is not printable (C0 and C1
    controls, ESC, DEL, bidirectional overrides, line and paragraph separators, lone surrogates)
    is shown as an escape; cut to ``n`` characters."""
    t = str(text)
    t = t if len(t) <= n else t[: n - 3] + "..."
    return "".join(c if c.isprintable() else _escape(c) for c in t)


def plot_text(text, n: int = 60) -> str:
    """Text for a matplotlib label: one line, ``$`` escaped (no math text), printable only."""
    return terminal(one_line(text, n), n + 40).replace("$", r"\$")


def file_name(name: str) -> str:
    """The file name (without suffix) for a submission's outputs: the name itself when it is
    already plain (letters, digits, ``. _ -``, not starting with a dot), else a cleaned form with
    8 hex digits of the name's SHA-256, so that no two submissions share a file."""
    name = str(name)
    if _SAFE_NAME.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    cleaned = _UNSAFE.sub("_", name.replace("/", "__")).strip("._")[:80] or "submission"
    return f"{cleaned}-{digest}"
