"""backprop-course: learn how neural networks learn by implementing every piece.

The reference library is organised one concept per module; submodules are
imported on first use, so ``import course`` stays fast::

    import course
    out, cache = course.layers.linear_forward(x, W, b)
    opt = course.optim.Adam(params, lr=1e-3)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "autograd",
    "averages",
    "instructor",
    "lessons",
    "backend",
    "data",
    "functions",
    "gradcheck",
    "gradients",
    "grader",
    "history",
    "init",
    "layers",
    "losses",
    "model",
    "optim",
    "parallel",
    "plots",
    "progress",
    "regularization",
    "schedules",
    "training",
    "validation",
    "widgets",
}


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
