"""Calling learner code safely inside the run phase, and turning what it returns into data.

- :func:`call_learner`: the call itself, floating-point warnings silenced (NaN and inf flow on to
  the comparison, which explains them).
- :func:`capture`: an exception as an :class:`~course.grader.run.outcome.ErrorInfo`, the traceback
  without the grader's own frames.
- :func:`plain`: a returned object as plain data (arrays copied, others as ``Opaque``).
- :func:`fd_gradient`: central differences of a scalar function (of the learner's forward).
"""

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np

from ...backend import is_array, to_numpy
from .outcome import ErrorInfo, Opaque

__all__ = ["LearnerMistake", "capture", "call_learner", "plain", "fd_gradient"]

_GRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # course/grader/


class LearnerMistake(Exception):
    """Raised by a protocol when the learner's code returns something unusable; the message is
    shown to the learner as it is."""

    def __init__(self, message: str, name: str = "type"):
        super().__init__(message)
        self.name = name


def capture(exc: BaseException, where: str = "") -> ErrorInfo:
    """The exception as an :class:`ErrorInfo`, its traceback without the grader's own frames."""
    if isinstance(exc, LearnerMistake):
        return ErrorInfo("mistake", exc.name, str(exc), "", where)
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(f.filename).startswith(_GRADER_DIR)
    ]
    lines = traceback.format_exception_only(type(exc), exc)
    if frames:
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames), *lines]
    kind = "not_attempted" if isinstance(exc, NotImplementedError) else "exception"
    shapes = _frame_shapes(exc) if kind == "exception" else {}
    return ErrorInfo(kind, type(exc).__name__, str(exc), "".join(lines).rstrip(), where, shapes)


def _frame_shapes(exc) -> dict:
    """``{name: shape}`` of the arrays alive in the innermost learner frame (plain data: the
    compare phase names the operands of a failed @ or broadcast with them)."""
    tb, frame = exc.__traceback__, None
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_GRADER_DIR):
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return {}
    out = {}
    for name, value in list(frame.f_locals.items())[:40]:
        if is_array(value) and getattr(value, "ndim", 0) >= 1:
            out[name] = tuple(int(d) for d in value.shape)
    return out


def call_learner(fn, *args, **kwargs):
    """Call learner code with floating-point warnings silenced: NaN and inf flow on to the
    comparison, which explains them, instead of stopping the check with a warning."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def plain(x):
    """Learner output as plain data: arrays become (copied) NumPy arrays, containers keep their
    type, numbers stay as they are, anything else becomes an :class:`Opaque`."""
    if x is None or isinstance(x, (bool, int, float, complex, str, np.generic)):
        return x
    if isinstance(x, np.ndarray):
        return x.copy()
    if is_array(x):
        return np.array(to_numpy(x), copy=True)
    if isinstance(x, tuple):
        return tuple(plain(v) for v in x)
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    try:
        text = repr(x)
    except Exception:  # a learner's broken __repr__ must not break the check
        text = f"<{type(x).__name__} object>"
    return Opaque(type(x).__name__, text[:200])


def fd_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar function ``f`` at ``x`` (x is perturbed and restored)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2.0 * h)
    return grad
