"""Outcomes across the sandbox boundary, in a format that cannot execute code.

The learner's kernel writes what its functions returned (:class:`~course.grader.run.runner.Outcome`
objects: arrays, numbers, strings, tuples, lists, dicts, :class:`~course.grader.run.runner.Opaque`
stand-ins and :class:`~course.grader.run.runner.ErrorInfo`) as one JSON file plus one ``.npy`` file
per array; the grader reads them back with ``json`` and ``np.load(allow_pickle=False)``. Pickle
is never used in this direction: a pickle written by learner code could run any code in the
grader's process when loaded.

Everything read here was written by untrusted code, so :func:`load` trusts nothing: unknown tags,
wrong types, object or structured dtypes, files that are not regular files (links, FIFOs), files
over the size limits and nesting deeper than :data:`MAX_DEPTH` are all a :class:`WireError`.

JSON layout: every JSON *object* is tagged with ``"$"`` (so no learner-chosen dict can pass for
one), lists are plain JSON lists::

    {"$": "tuple", "v": [...]}          {"$": "dict", "items": [[key, value], ...]}
    {"$": "array", "a": 3}              -> arrays/3.npy        {"$": "scalar", "a": 4} (0-d)
    {"$": "opaque", "type": "Foo", "text": "<Foo>"}            {"$": "complex", "re": 1.0, "im": 2.0}
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np

from ....grader.run.runner import ErrorInfo, Opaque, Outcome

__all__ = ["WireError", "dump", "load", "encode", "decode", "clean_text", "MAX_DEPTH", "MAX_TEXT", "MAX_JSON_BYTES",
           "MAX_ARRAY_BYTES"]

VERSION = 1
MAX_DEPTH = 40
MAX_TEXT = 20_000  # characters of one string (tracebacks and messages are cut there)
MAX_JSON_BYTES = 16 * 2**20
MAX_ARRAY_BYTES = 64 * 2**20  # all arrays of one file together
_ERROR_KINDS = ("not_attempted", "exception", "mistake")
MAX_SHAPES, MAX_NAME, MAX_DIMS = 40, 64, 8  # the learner frame's array shapes carried with an error
_ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex: nothing that needs pickle


class WireError(ValueError):
    """The outcome files are not what the sandbox writes (corrupt, too large, or forged)."""


def clean_text(s: str) -> str:
    """``s`` as text that can be written as UTF-8: JSON's ``\\ud800`` escapes give lone surrogates,
    which no UTF-8 file can hold (writing one would stop the grader); each becomes ``?``."""
    return s.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Writing (in the learner's kernel)


def _text(s) -> str:
    s = str(s)
    return s if len(s) <= MAX_TEXT else s[:MAX_TEXT] + " [...]"


def _opaque(x) -> dict:
    try:
        text = repr(x)
    except Exception:  # a learner's broken __repr__
        text = f"<{type(x).__name__} object>"
    return {"$": "opaque", "type": _text(type(x).__name__)[:200], "text": _text(text)[:200]}


def _encode(x, arrays: list, depth: int):
    if depth > MAX_DEPTH:
        return _opaque(x)
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, np.generic):  # before float: np.float64 is a float too
        if x.dtype.kind not in _ARRAY_KINDS:
            return _opaque(x)
        arrays.append(np.asarray(x))
        return {"$": "scalar", "a": len(arrays) - 1}
    if isinstance(x, int):
        return x if abs(x) < 2**63 else float(x)
    if isinstance(x, float):
        return x
    if isinstance(x, str):
        return _text(x)
    if isinstance(x, complex):
        return {"$": "complex", "re": x.real, "im": x.imag}
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in _ARRAY_KINDS:
            return _opaque(x)
        arrays.append(x)
        return {"$": "array", "a": len(arrays) - 1}
    if isinstance(x, Opaque):
        return {"$": "opaque", "type": _text(x.type_name)[:200], "text": _text(x.text)[:200]}
    if isinstance(x, tuple):
        return {"$": "tuple", "v": [_encode(v, arrays, depth + 1) for v in x]}
    if isinstance(x, list):
        return [_encode(v, arrays, depth + 1) for v in x]
    if isinstance(x, dict):
        return {"$": "dict", "items": [[_encode(k, arrays, depth + 1), _encode(v, arrays, depth + 1)]
                                       for k, v in x.items()]}
    return _opaque(x)


def _encode_error(e: ErrorInfo | None):
    if e is None:
        return None
    return {"kind": e.kind, "type": _text(e.type), "message": _text(e.message),
            "traceback": _text(e.traceback), "where": _text(e.where),
            "shapes": [[_text(str(n))[:MAX_NAME], [int(d) for d in s][:MAX_DIMS]]
                       for n, s in list((e.shapes or {}).items())[:MAX_SHAPES]]}


def encode(outcomes: list, meta: dict | None = None) -> tuple[bytes, list[bytes]]:
    """``outcomes`` (a list of Outcome) as the JSON document's bytes and one ``.npy`` file's bytes
    per array (what :func:`decode` reads back)."""
    import io

    doc, arrays = _document(outcomes, meta)
    blobs = []
    for a in arrays:
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        blobs.append(buf.getvalue())
    return json.dumps(doc).encode("utf-8"), blobs


def _document(outcomes: list, meta: dict | None):
    arrays: list = []
    items = [
        {
            "outputs": _encode(o.outputs, arrays, 0),
            "error": _encode_error(o.error),
            "mutated": [_text(m) for m in o.mutated],
            "extra": _encode(dict(o.extra), arrays, 0),
        }
        for o in outcomes
    ]
    doc = {"$": "outcomes", "version": VERSION, "arrays": len(arrays), "outcomes": items, "meta": meta or {}}
    return doc, arrays


def dump(outcomes: list, path, meta: dict | None = None) -> None:
    """Write ``outcomes`` (a list of Outcome) as ``path`` (JSON) and ``<path stem>.arrays/k.npy``.

    The JSON file is written last and renamed into place, so a reader never sees half a file.
    """
    path = Path(path)
    doc, arrays = _document(outcomes, meta)
    folder = path.with_suffix(".arrays")
    folder.mkdir(parents=True, exist_ok=True)
    for k, a in enumerate(arrays):
        np.save(folder / f"{k}.npy", a, allow_pickle=False)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Reading (in the grader's process: trust nothing)


def _regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link, FIFO or device) within ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise WireError(f"{path.name}: cannot open ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise WireError(f"{path.name}: not a regular file")
        if st.st_size > limit:
            raise WireError(f"{path.name}: {st.st_size} bytes, more than the limit of {limit}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise WireError(f"{path.name}: more than {limit} bytes")
        return data
    finally:
        os.close(fd)


class _Reader:
    def __init__(self, fetch, n_arrays: int):
        self.fetch = fetch  # k -> the bytes of array k (at most ``limit`` bytes)
        self.n = n_arrays
        self.budget = MAX_ARRAY_BYTES
        self.cache: dict[int, np.ndarray] = {}

    def array(self, k) -> np.ndarray:
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < self.n:
            raise WireError("an array reference that is not the index of an array sent")
        if k in self.cache:  # each reference is a new array: it counts against the budget again
            a = self.cache[k]
            if a.nbytes > self.budget:
                raise WireError(f"array {k}: the arrays are over the limit of {MAX_ARRAY_BYTES} bytes")
            self.budget -= a.nbytes
            return a.copy()
        import io

        data = self.fetch(k, self.budget)
        if len(data) > self.budget:
            raise WireError(f"array {k}: the arrays are over the limit of {MAX_ARRAY_BYTES} bytes")
        self.budget -= len(data)
        try:
            a = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as exc:  # ValueError for object arrays, anything else for garbage
            raise WireError(f"array {k}: not a readable .npy array ({type(exc).__name__})") from None
        if not isinstance(a, np.ndarray) or a.dtype.kind not in _ARRAY_KINDS or a.dtype.fields is not None:
            raise WireError(f"array {k}: an array of a kind that is not allowed (only numbers and booleans)")
        a = a.astype(a.dtype.newbyteorder("="), copy=False)
        self.cache[k] = a
        return a.copy()

    def decode(self, x, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("nested too deeply")
        if x is None or isinstance(x, (bool, int, float)):
            return x
        if isinstance(x, str):
            return clean_text(x[:MAX_TEXT])
        if isinstance(x, list):
            return [self.decode(v, depth + 1) for v in x]
        if not isinstance(x, dict):
            raise WireError(f"unexpected {type(x).__name__}")
        tag = x.get("$")
        if tag == "tuple":
            return tuple(self.decode(v, depth + 1) for v in _list(x, "v"))
        if tag == "dict":
            out = {}
            for pair in _list(x, "items"):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("bad dict item")
                key = self.decode(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("unhashable dict key") from None
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if tag == "array":
            return self.array(x.get("a"))
        if tag == "scalar":
            a = self.array(x.get("a"))
            if a.ndim != 0:
                raise WireError("scalar with a shape")
            return a[()]
        if tag == "opaque":
            return Opaque(_str(x, "type")[:200], _str(x, "text")[:200])
        if tag == "complex":
            re_, im = x.get("re"), x.get("im")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (re_, im)):
                raise WireError("bad complex")
            return complex(re_, im)
        raise WireError("a value of an unknown kind")


def _list(x: dict, key: str) -> list:
    v = x.get(key)
    if not isinstance(v, list):
        raise WireError(f"{key!r} should be a list")
    return v


def _str(x: dict, key: str) -> str:
    v = x.get(key, "")
    if not isinstance(v, str):
        raise WireError(f"{key!r} should be a string")
    return clean_text(v[:MAX_TEXT])


def _error(x) -> ErrorInfo | None:
    if x is None:
        return None
    if not isinstance(x, dict) or x.get("kind") not in _ERROR_KINDS:
        raise WireError("bad error record")
    return ErrorInfo(x["kind"], _str(x, "type")[:200], _str(x, "message"), _str(x, "traceback"), _str(x, "where"),
                     _shapes(x.get("shapes", [])))


def _shapes(v) -> dict:
    """The learner frame's ``{name: shape}``, bounded, names as plain text and sizes as ints."""
    if not isinstance(v, list) or len(v) > MAX_SHAPES:
        raise WireError("bad shapes of an error record")
    out = {}
    for item in v:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], list) or len(item[1]) > MAX_DIMS
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in item[1])):
            raise WireError("bad shapes of an error record")
        out[clean_text(item[0][:MAX_NAME])] = tuple(item[1])
    return out


def load(path) -> tuple[list[Outcome], dict]:
    """Read what :func:`dump` wrote: ``(outcomes, meta)``. Raises :class:`WireError` for anything
    else (the caller grades the exercise 0 with the reason)."""
    path = Path(path)
    folder = path.with_suffix(".arrays")
    return _decode(_regular_file(path, MAX_JSON_BYTES), lambda k, limit: _regular_file(folder / f"{k}.npy", limit),
                   path.name)


def decode(doc: bytes, arrays: list) -> tuple[list[Outcome], dict]:
    """Read what :func:`encode` gave (``arrays``: the bytes of each array), trusting nothing."""
    def fetch(k, limit):
        if not 0 <= k < len(arrays):
            raise WireError(f"array {k}: missing")
        return arrays[k]

    if len(doc) > MAX_JSON_BYTES:
        raise WireError(f"the outcomes are {len(doc)} bytes, more than {MAX_JSON_BYTES}")
    return _decode(doc, fetch, "outcomes")


def _decode(raw: bytes, fetch, name: str) -> tuple[list[Outcome], dict]:
    from .channel import MAX_NODES, json_nodes

    if json_nodes(raw) > MAX_NODES:
        raise WireError(f"{name}: more than {MAX_NODES} values")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"{name}: not valid JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("$") != "outcomes" or doc.get("version") != VERSION:
        raise WireError(f"{name}: not an outcomes file")
    n = doc.get("arrays")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100_000:
        raise WireError(f"{name}: bad array count")
    reader = _Reader(fetch, n)
    outcomes = []
    try:
        for item in _list(doc, "outcomes"):
            if not isinstance(item, dict):
                raise WireError("bad outcome")
            mutated = item.get("mutated", [])
            if not isinstance(mutated, list) or not all(isinstance(m, str) for m in mutated):
                raise WireError("bad 'mutated'")
            extra = reader.decode(item.get("extra", {"$": "dict", "items": []}))
            if not isinstance(extra, dict):
                raise WireError("bad 'extra'")
            outcomes.append(Outcome(
                outputs=reader.decode(item.get("outputs")),
                error=_error(item.get("error")),
                mutated=tuple(clean_text(m[:200]) for m in mutated),
                extra=extra,
            ))
    except RecursionError:
        raise WireError(f"{name}: nested too deeply") from None
    meta = doc.get("meta")
    return outcomes, meta if isinstance(meta, dict) else {}
