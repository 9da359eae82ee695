"""Forward mode: push tangents through a function alongside its values.

Each op's jvp rule sits next to its vjp in ops.py; while ``jvp`` runs, every op
applies its rule as it goes (engine._push_tangents), so one pass gives J @ tangent.
Levels nest: jvp inside jvp gives higher derivatives, and a jvp's result can be
differentiated in reverse mode.
"""
import numpy as np

from . import engine
from .engine import Tensor, as_array
from .nest import flatten, unflatten
from .ops import clone, reshape, stack, zeros_like


def _tensor(x, like=None):
    return x if isinstance(x, Tensor) else Tensor(as_array(x, None if like is None else like.data.dtype))


def jvp(fn, primals, tangents):
    """(fn(*primals), J_fn(primals) @ tangents). A single primal may be passed bare."""
    single = not isinstance(primals, (list, tuple))
    primals, tangents = ([primals], [tangents]) if single else (list(primals), list(tangents))
    xs = [clone(_tensor(p)) for p in primals]  # fresh tensors to carry this level's tangents
    level = {id(x): (x, _tensor(t, x)) for x, t in zip(xs, tangents)}
    engine._jvp_levels = engine._jvp_levels + (level,)
    try:
        out = fn(*xs)
    finally:
        engine._jvp_levels = tuple(lv for lv in engine._jvp_levels if lv is not level)
    tangents_out = [level[id(o)][1] if id(o) in level else zeros_like(o) for o in flatten(out)]
    return out, unflatten(out, tangents_out)


def jacfwd(fn, x):
    """d fn(x) / dx, shape fn(x).shape + x.shape, one jvp per input element."""
    x = _tensor(x)
    columns, out = [], None
    for j in range(x.data.size):
        basis = np.zeros(x.data.size, x.data.dtype)
        basis[j] = 1
        out, t = jvp(fn, (x,), (basis.reshape(x.data.shape),))
        columns.append(reshape(t, (-1,)))
    return reshape(stack(columns, axis=-1), out.data.shape + x.data.shape)
