"""Finite differences of sum(forward(...)[0] * dout) with respect to one argument (shared by layer tests)."""

import numpy as np

from course.gradcheck import numerical_gradient


def fd_check(forward, backward, args, dout, wrt, rtol=1e-5, atol=1e-7, kwargs=None):
    """Assert that backward(dout, cache)[i] matches finite differences for each (i, arg index) in wrt."""
    kwargs = kwargs or {}
    _, cache = forward(*args, **kwargs)
    grads = backward(dout, cache)

    def value(_):  # the argument is perturbed in place by numerical_gradient
        return float(np.sum(forward(*args, **kwargs)[0] * dout))

    for out_i, arg_i in wrt:
        np.testing.assert_allclose(grads[out_i], numerical_gradient(value, args[arg_i], h=1e-6), rtol=rtol,
                                   atol=atol, err_msg=f"gradient {out_i} (argument {arg_i})")
