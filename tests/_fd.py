"""Finite differences of sum(forward(...)[0] * dout) with respect to one argument (shared by layer tests)."""

import numpy as np


def fd_grad(value, x, h=1e-6):
    """Central differences of the scalar ``value()`` with respect to the array ``x`` (perturbed in place)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = value()
        flat[i] = old - h
        minus = value()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def fd_check(forward, backward, args, dout, wrt, rtol=1e-5, atol=1e-7, kwargs=None):
    """Assert that backward(dout, cache)[i] matches finite differences for each (i, arg index) in wrt."""
    kwargs = kwargs or {}
    _, cache = forward(*args, **kwargs)
    grads = backward(dout, cache)

    def value():
        return float(np.sum(forward(*args, **kwargs)[0] * dout))

    for out_i, arg_i in wrt:
        np.testing.assert_allclose(grads[out_i], fd_grad(value, args[arg_i]), rtol=rtol, atol=atol,
                                   err_msg=f"gradient {out_i} (argument {arg_i})")
