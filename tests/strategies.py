"""Hypothesis strategies shared by the property tests (modelled on minitorch's tests/strategies.py):
small shapes, well-scaled float64 arrays, and the optimizers' hyper-parameters.

Values stay in [-3, 3] (finite differences are accurate there: about 1e-9 relative with h = 1e-6),
shapes small (every entry is perturbed twice), and the examples are few under ``CI=true``.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

settings.register_profile(
    "course", max_examples=15 if os.environ.get("CI") else 40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("course")

small_floats = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False, width=64)
sizes = st.integers(min_value=1, max_value=5)


def matrices(n, d, elements=small_floats):
    """A float64 array of shape (n, d)."""
    return arrays(np.float64, (n, d), elements=elements)


@st.composite
def batch(draw, min_n=1):
    """``x`` of shape (N, D) with N >= min_n."""
    n = draw(st.integers(min_value=min_n, max_value=5))
    return draw(matrices(n, draw(sizes)))


@st.composite
def batch_and_dout(draw, min_n=1):
    """``(x, dout)``, both (N, D)."""
    x = draw(batch(min_n))
    return x, draw(matrices(*x.shape))


@st.composite
def linear_inputs(draw):
    """``(x, W, b, dout)``: x (N, D), W (D, M), b (M,), dout (N, M)."""
    n, d, m = draw(sizes), draw(sizes), draw(sizes)
    x, W = draw(matrices(n, d)), draw(matrices(d, m))
    b = draw(arrays(np.float64, (m,), elements=small_floats))
    return x, W, b, draw(matrices(n, m))


@st.composite
def gradients(draw, shapes, steps):
    """``steps`` gradient dicts for parameters of ``shapes`` ({name: shape})."""
    return [{k: draw(arrays(np.float64, s, elements=small_floats)) for k, s in shapes.items()} for _ in range(steps)]


@st.composite
def params_and_grads(draw):
    """``(params, grads_per_step)``: one or two parameters, 1-5 steps."""
    shapes = {"W": (draw(sizes), draw(sizes))}
    if draw(st.booleans()):
        shapes["b"] = (draw(sizes),)
    params = {k: draw(arrays(np.float64, s, elements=small_floats)) for k, s in shapes.items()}
    return params, draw(gradients(shapes, draw(st.integers(1, 5))))


rates = st.floats(min_value=1e-4, max_value=0.5)
fractions = st.floats(min_value=0.0, max_value=0.99)
decays = st.sampled_from([0.0, 1e-3, 0.1])
epsilons = st.sampled_from([1e-10, 1e-8, 1e-3])

#: Hyper-parameters per optimizer class name (valid ranges only).
HYPERPARAMETERS = {
    "SGD": st.fixed_dictionaries({"lr": rates, "momentum": fractions, "dampening": st.sampled_from([0.0, 0.5]),
                                  "weight_decay": decays}).flatmap(
        lambda hp: st.just(hp) if hp["momentum"] == 0 or hp["dampening"] else
        st.booleans().map(lambda nesterov: {**hp, "nesterov": nesterov})),
    "Adagrad": st.fixed_dictionaries({"lr": rates, "lr_decay": decays, "weight_decay": decays, "eps": epsilons}),
    "RMSprop": st.fixed_dictionaries({"lr": rates, "alpha": fractions, "eps": epsilons, "weight_decay": decays,
                                      "momentum": fractions, "centered": st.booleans()}),
    "Adam": st.fixed_dictionaries({"lr": rates, "betas": st.tuples(fractions, st.floats(0.5, 0.999)),
                                   "eps": epsilons, "weight_decay": decays, "amsgrad": st.booleans()}),
    "AdamW": st.fixed_dictionaries({"lr": rates, "betas": st.tuples(fractions, st.floats(0.5, 0.999)),
                                    "eps": epsilons, "weight_decay": decays, "amsgrad": st.booleans()}),
}
