"""The backend layer: namespace from inputs, default backend selection, clear errors, to_numpy."""

import importlib.util

import numpy as np
import pytest

from course import backend


def test_namespace_comes_from_inputs_not_global_state(monkeypatch):
    strict = pytest.importorskip("array_api_strict")
    monkeypatch.setattr(backend, "_default", "numpy")
    a = strict.asarray([1.0, 2.0])
    xp = backend.namespace(a, None, 3.0)
    assert xp is strict
    assert backend.namespace(np.ones(2)).__name__.startswith("array_api_compat.numpy")


def test_mixing_backends_is_a_clear_error():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="arrays from different backends cannot be mixed"):
        backend.namespace(np.ones(2), strict.asarray([1.0]))


def test_to_numpy_handles_every_kind():
    strict = pytest.importorskip("array_api_strict")
    np.testing.assert_array_equal(backend.to_numpy(strict.asarray([1.0, 2.0])), [1.0, 2.0])
    a = np.ones(3)
    assert backend.to_numpy(a) is a
    np.testing.assert_array_equal(backend.to_numpy([[1, 2]]), [[1, 2]])


def test_default_backend_is_numpy_and_env_variable_is_read(monkeypatch):
    monkeypatch.setattr(backend, "_default", None)
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    assert backend.current() is np
    monkeypatch.setattr(backend, "_default", None)
    monkeypatch.setenv("COURSE_BACKEND", "NumPy ")
    assert backend.current() is np


def test_unknown_backend_rejected(monkeypatch):
    monkeypatch.setattr(backend, "_default", None)
    with pytest.raises(ValueError, match="backend must be one of \\('numpy', 'cupy'\\), got 'jax'"):
        backend.use("jax")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cupy_without_cupy_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(backend, "_default", None)
    with pytest.raises(backend.BackendError, match="needs the CuPy package.*pip install 'backprop-course\\[gpu\\]'"):
        backend.use("cupy")
    monkeypatch.setenv("COURSE_BACKEND", "cupy")
    with pytest.raises(backend.BackendError, match="CuPy"):
        backend.current()


def test_asarray_lists_become_float64_of_current_backend(monkeypatch):
    monkeypatch.setattr(backend, "_default", "numpy")
    a = backend.asarray([1, 2, 3])
    assert isinstance(a, np.ndarray) and a.dtype == np.float64


@pytest.mark.gpu
def test_cupy_backend_round_trip(monkeypatch):
    from _backends import _cupy

    cupy = _cupy()
    monkeypatch.setattr(backend, "_default", None)
    assert backend.use("cupy") is cupy
    a = backend.asarray([1.0, 2.0])
    assert isinstance(a, cupy.ndarray)
    assert isinstance(backend.to_numpy(a), np.ndarray)
    from course.layers import linear_forward

    out, _ = linear_forward(cupy.ones((2, 3)), cupy.ones((3, 4)), cupy.zeros(4))
    assert isinstance(out, cupy.ndarray) and float(out[0, 0]) == 3.0
