"""Functional layers: every ``*_forward`` returns ``(out, cache)``; every ``*_backward(dout, cache)``
returns the gradients of the forward's array inputs, in order.

Shapes use fixed letters: N batch, D input features, M outputs, C classes.

Each module's ``__all__`` is its public list; this package exports their union (add a module:
import it below and add its ``__all__``; nothing is listed twice).
"""

from . import (
               activations,
               attention,
               conv,
               dropout,
               gated,
               linear,
               normalization,
               pool,
               prelu,
               residual,
               rnn,
               spatial_norm,
               transformer,
)
from .activations import *  # noqa: F403
from .attention import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .gated import *  # noqa: F403
from .linear import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pool import *  # noqa: F403
from .prelu import *  # noqa: F403
from .residual import *  # noqa: F403
from .rnn import *  # noqa: F403
from .spatial_norm import *  # noqa: F403
from .transformer import *  # noqa: F403

_MODULES = (linear, activations, normalization, spatial_norm, dropout, prelu, residual, conv, pool, rnn, gated,
            attention, transformer)
__all__ = [name for module in _MODULES for name in module.__all__]
