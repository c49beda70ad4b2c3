"""What the optimizer exercises share: the test functions a trajectory runs on, the protocol,
a case builder, and the state-not-kept bug."""

from __future__ import annotations

import numpy as np

from ... import functions as _functions
from ...functions import Bowl as _Bowl  # in course.functions: the sandbox needs it too
from ..cases import Case
from ..run.runner import Trajectory

STEPS = 20


def _lookup(name):
    return _Bowl() if name == "bowl5" else _functions.FUNCTIONS[name]


TRAJECTORY = Trajectory(_lookup)


def _case(rng, function, w0, note, steps=STEPS, **hp):
    w0 = np.asarray(w0, dtype=np.float64) + rng.uniform(-0.1, 0.1, len(w0))
    return Case(kwargs=hp, note=note, extra={"function": function, "w0": w0, "steps": steps})


def _fresh_state(update):
    """The state-not-kept bug: every step starts from an empty state."""
    return lambda w, g, state, **hp: update(w, g, {}, **hp)


_STATE = (
    "Your optimizer forgets its state between steps: each step behaves like the first. Store "
    "the running buffers back into the state dict (state['...'] = ...), and update the dict you "
    "were given rather than making a new one."
)
