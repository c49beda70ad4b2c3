"""The array backends the backend-agnostic tests run under.

``xp`` is a fixture giving a small adapter with ``asarray`` / ``to_numpy`` for one backend:
NumPy; array-api-strict, a strict non-NumPy stand-in that fails on any stray ``np.`` call
in backend-agnostic code; and CuPy, skipped with a reason where there is no GPU.
Import it into a test module with ``from _backends import xp  # noqa: F401``.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.backend import to_numpy


class Backend:
    def __init__(self, name, module):
        self.name, self.module = name, module

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        if dtype is None:
            return self.module.asarray(a)
        return self.module.asarray(a, dtype=getattr(self.module, np.dtype(dtype).name))

    def to_numpy(self, a):
        return to_numpy(a)

    def is_native(self, a):
        """True when ``a`` is an array of this backend (and not, say, NumPy's)."""
        return type(a) is type(self.module.asarray([0.0]))

    def __repr__(self):
        return self.name


def _cupy():
    try:
        import cupy
    except ImportError:
        pytest.skip("CuPy is not installed (GPU tests need `pip install -e '.[gpu]'` and a CUDA GPU)")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device")
    except Exception:
        pytest.skip("CuPy is installed but no CUDA GPU is available")
    return cupy


@pytest.fixture(params=["numpy", "strict", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request):
    if request.param == "numpy":
        return Backend("numpy", np)
    if request.param == "strict":
        strict = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test extra")
        return Backend("strict", strict)
    return Backend("cupy", _cupy())
