"""Reading values for messages and comparisons: shapes and numbers as text, small previews of
arrays for "expected vs got", and closeness (same shape, close values, non-finite entries in the
same places)."""

from __future__ import annotations

import numpy as np

from ...backend import is_array, to_numpy
from .outcome import Opaque

__all__ = ["fmt_shape", "num", "preview", "close", "isclose", "is_number", "index_text"]


def fmt_shape(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def num(v) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if np.isfinite(v) and 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}"
    return f"{v:.3e}"


def preview(x, max_rows: int = 3, max_cols: int = 4) -> str:
    """A small slice of a value, for "expected vs got"."""
    if isinstance(x, Opaque):
        return x.text
    if x is None or isinstance(x, (str, bool)):
        return repr(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return num(x)
    if isinstance(x, (list, tuple)) and not all(isinstance(v, (int, float)) for v in x):
        return type(x).__name__ + " of " + str(len(x))
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {preview(v)}" for k, v in list(x.items())[:4]) + "}"
    try:
        a = np.asarray(to_numpy(x) if is_array(x) else x)
    except Exception:
        return repr(x)[:80]
    if a.dtype.kind not in "biuf":
        return repr(x)[:80]
    sl = a
    cut = False
    if a.ndim >= 1 and a.shape[0] > max_rows:
        sl, cut = sl[:max_rows], True
    if a.ndim >= 2 and a.shape[1] > max_cols:
        sl, cut = sl[:, :max_cols], True
    if a.ndim > 2:
        return f"array of shape {fmt_shape(a.shape)}: " + np.array2string(a.reshape(-1)[:6], precision=4) + " ..."
    with np.printoptions(precision=4, suppress=True, linewidth=70):
        text = np.array2string(sl)
    shape = f"  (shape {fmt_shape(a.shape)}{', first rows/columns' if cut else ''})" if a.ndim else ""
    return text + shape


def close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Same shape and close values; non-finite entries must sit in the same places."""
    try:
        a = np.asarray(to_numpy(a) if is_array(a) else a, dtype=np.float64)
        b = np.asarray(to_numpy(b) if is_array(b) else b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        fa, fb = np.isfinite(a), np.isfinite(b)
        if not np.array_equal(fa, fb):
            return False
        return bool(np.allclose(a[fa], b[fa], rtol=rtol, atol=atol))


def is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def index_text(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ")" if len(idx) != 1 else f"[{int(idx[0])}]"


def isclose(a, e, rtol, atol):
    with np.errstate(all="ignore"):
        return np.isclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=False)
