"""Array backends: NumPy by default, CuPy on a GPU.

Two rules keep the reference code backend agnostic:

1. A computation finds its array namespace ``xp`` from its *inputs*::

       xp = namespace(x, W, b)     # numpy, cupy, or any Array-API namespace
       out = x @ W + b             # operators work everywhere
       s = xp.sum(out, axis=0)     # functions come from xp, never from np

   so arrays of one backend go in and arrays of the same backend come out.

2. Only code that *creates* arrays from nothing (data sets, initialisers, models)
   asks for the default backend with :func:`current`. The default is NumPy; choose
   CuPy with ``course.backend.use("cupy")`` or ``COURSE_BACKEND=cupy``.

:func:`to_numpy` brings any array back to NumPy for plotting and grading.
"""

from __future__ import annotations

import os
from types import ModuleType

import array_api_compat
import numpy as np

__all__ = ["BackendError", "use", "current", "namespace", "to_numpy", "is_array", "asarray"]

_BACKENDS = ("numpy", "cupy")
_default: str | None = None


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


def _load_cupy() -> ModuleType:
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise BackendError(
            "backend 'cupy' needs the CuPy package, which is not installed: "
            "install it with  pip install 'backprop-course[gpu]'  (CUDA 12)"
        ) from exc
    try:
        n_gpus = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise BackendError(f"backend 'cupy': CuPy is installed but no CUDA GPU is usable ({exc})") from exc
    if n_gpus < 1:  # pragma: no cover - depends on the machine
        raise BackendError("backend 'cupy': CuPy is installed but no CUDA GPU was found")
    return cupy


def use(name: str) -> ModuleType:
    """Choose the default backend for newly created arrays: ``"numpy"`` or ``"cupy"``.

    Returns the backend's module. Raises :class:`BackendError` naming what is
    missing when CuPy is asked for but not importable or no GPU is present.
    """
    global _default
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {name!r}")
    module = _load_cupy() if name == "cupy" else np
    _default = name
    return module


def current() -> ModuleType:
    """The default backend's module (``numpy`` or ``cupy``), used only to *create* arrays.

    Reads ``COURSE_BACKEND`` the first time it is called if :func:`use` was not.
    """
    global _default
    if _default is None:
        use(os.environ.get("COURSE_BACKEND", "numpy").strip().lower() or "numpy")
    return _load_cupy() if _default == "cupy" else np


def is_array(x) -> bool:
    """True for an array of any supported backend (not for lists or Python scalars)."""
    if type(x) is np.ndarray:  # the common case, answered without the general check
        return True
    return array_api_compat.is_array_api_obj(x) and not isinstance(x, (bool, int, float, complex))


_NUMPY = array_api_compat.array_namespace(np.empty(0))


def namespace(*arrays) -> ModuleType:
    """The array namespace shared by ``arrays`` (``None`` and Python scalars are ignored).

    NumPy and CuPy arrays give their ``array_api_compat`` wrappers, whose functions
    return plain ``numpy.ndarray`` / ``cupy.ndarray``. Mixing backends is an error.
    """
    found = [a for a in arrays if is_array(a)]
    if all(type(a) is np.ndarray for a in found):  # includes no arrays at all: NumPy
        return _NUMPY
    try:
        return array_api_compat.array_namespace(*found)
    except TypeError as exc:
        kinds = sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__ for a in found})
        raise TypeError(f"arrays from different backends cannot be mixed: got {', '.join(kinds)}") from exc


def to_numpy(x) -> np.ndarray:
    """Any array (NumPy, CuPy, Array-API) or nested list as a NumPy array, for plots and grading."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if is_array(x):
        try:
            return np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError, AttributeError):
            return np.asarray(x)
    return np.asarray(x)


def asarray(x, *, like=None, dtype=None):
    """``x`` as an array of the backend of ``like`` (default: the current backend).

    Lists and scalars become float64 arrays unless ``dtype`` says otherwise.
    """
    if like is not None:
        xp = namespace(like)
    elif is_array(x):
        xp = namespace(x)
    else:
        xp = current()
    if dtype is None and not is_array(x):
        dtype = xp.float64 if np.issubdtype(np.asarray(x).dtype, np.number) else None
    return xp.asarray(x, dtype=dtype)
