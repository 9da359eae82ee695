"""Shapes and indexing: squeeze, expand_dims, tile, flip, pad, gather, take_along_axis,
argsort, sort, topk, einsum.

As in ops.py, each vjp is the structural inverse of its forward: a gather's is a scatter
that adds up repeats (and the scatter's vjp is the gather again, so second order works).
Integer index tensors are inputs without rules: they carry no gradient.
"""
import string

import numpy as np

from .engine import Tensor
from .ops import _axes, broadcast_to, composite, defop, each, reshape, sum, untake

# --- shapes --------------------------------------------------------------------------------
squeeze = defop("squeeze", lambda x, axis=None: np.squeeze(x, _axes(axis)), saves=False,
                vjp=lambda g, z, x, axis: reshape(g, x.shape),
                jvp=lambda t, z, x, axis: squeeze(t, axis))
# expand_dims(x, axis): NumPy/TF/JAX's name; torch.unsqueeze(x, dim) takes one axis.
expand_dims = defop("expand_dims", lambda x, axis: np.expand_dims(x, _axes(axis)), saves=False,
                    vjp=lambda g, z, x, axis: reshape(g, x.shape),
                    jvp=lambda t, z, x, axis: expand_dims(t, axis))
# flip(x, axis=None): axis=None reverses every axis (NumPy, JAX); torch.flip needs dims, tf.reverse an axis list.
flip = defop("flip", lambda x, axis=None: np.flip(x, _axes(axis)), saves=False,
             vjp=lambda g, z, x, axis: flip(g, axis),
             jvp=lambda t, z, x, axis: flip(t, axis))


def _untile(g, x, reps):
    """tile's vjp: view g as (rep_0, n_0, rep_1, n_1, ...) and sum the copies."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    d = len(reps) if len(reps) > x.ndim else x.ndim
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - x.ndim) + x.shape
    copies = reshape(g, tuple(v for r, n in zip(reps, shape) for v in (r, n)))
    return reshape(sum(copies, axis=tuple(range(0, 2 * d, 2))), x.shape)


# tile(x, reps): np.tile / tf.tile / jnp.tile / torch.tile (a shorter reps is padded with 1s in front).
tile = defop("tile", lambda x, reps: np.tile(x, reps), saves=False,
             vjp=lambda g, z, x, reps: _untile(g, x, reps),
             jvp=lambda t, z, x, reps: tile(t, reps))

# --- pad -------------------------------------------------------------------------------------
_PAD_MODES = {"replicate": "edge", "circular": "wrap"}  # torch's names for NumPy's


def _pad_mode(mode):
    mode = mode.lower()  # tf.pad spells them in capitals
    return _PAD_MODES.get(mode, mode)


def _pad(x, pad_width, mode="constant", value=0.0):
    """np.pad. ``pad_width`` is NumPy's (and tf.pad's ``paddings``): an int, one (before, after)
    pair for every axis, or one pair per axis from the first axis on. torch.nn.functional.pad
    instead lists the pairs flat from the *last* axis backwards. ``mode``: constant (filled
    with ``value``), reflect, symmetric, edge (torch's replicate), wrap (torch's circular)."""
    mode = _pad_mode(mode)
    if mode == "constant":
        return np.pad(x, pad_width, mode, constant_values=value)
    return np.pad(x, pad_width, mode)


def _pad_vjp(g, z, x, pad_width, mode, value):
    if _pad_mode(mode) == "constant":  # the inner block
        pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
        return g[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(pairs, x.shape))]
    source = _pad(np.arange(x.numel()).reshape(x.shape), pad_width, mode)  # the entry of x each output copies
    return reshape(untake(reshape(g, (-1,)), (source.ravel(),), (x.numel(),)), x.shape)


pad = defop("pad", _pad, saves=False, vjp=_pad_vjp,
            jvp=lambda t, z, x, pad_width, mode, value: pad(t, pad_width, mode, 0.0))


# --- gathers and their scatters ----------------------------------------------------------------
def _ungather(g, indices, axis, size):
    """The transpose of gather: zeros with ``size`` entries on ``axis``, g added at ``indices``."""
    out = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + indices.ndim:], g.dtype)
    np.add.at(out, (slice(None),) * axis + (indices,), g)
    return out


def _gather(x, indices, axis=0):
    """np.take / tf.gather / jnp.take: the slices of x on ``axis`` that ``indices`` pick; result
    shape x.shape[:axis] + indices.shape + x.shape[axis+1:]. Negative indices count from the
    end (NumPy); out-of-range ones raise. torch.gather is take_along_axis, not this."""
    return np.take(x, indices, axis=axis)


ungather = defop("ungather", _ungather,
                 vjp=(lambda g, z, y, indices, axis, size: gather(g, indices, axis), None),
                 jvp=(lambda t, z, y, indices, axis, size: ungather(t, indices, axis, size), None))
gather = defop("gather", _gather,
               vjp=(lambda g, z, x, indices, axis: ungather(g, indices, axis % x.ndim, x.shape[axis]), None),
               jvp=(lambda t, z, x, indices, axis: gather(t, indices, axis), None))


def _along(indices, axis, shape):
    """The fancy index take_along_axis uses: ``indices`` on ``axis``, a broadcast arange elsewhere."""
    axis %= len(shape)
    return tuple(indices if d == axis else np.arange(n).reshape([-1 if k == d else 1 for k in range(len(shape))])
                 for d, n in enumerate(shape))


def _untake_along(g, indices, axis, shape):
    out = np.zeros(shape, g.dtype)
    np.add.at(out, _along(indices, axis, shape), g)  # repeated indices add up
    return out


def _take_along_axis(x, indices, axis=-1):
    """np.take_along_axis / torch.gather(x, dim, index) / jnp.take_along_axis: out[..., i, ...] =
    x[..., indices[..., i, ...], ...] on ``axis``; indices has x's rank."""
    return np.take_along_axis(x, indices, axis)


untake_along = defop("untake_along", _untake_along,
                     vjp=(lambda g, z, y, indices, axis, shape: take_along_axis(g, indices, axis), None),
                     jvp=(lambda t, z, y, indices, axis, shape: untake_along(t, indices, axis, shape), None))
take_along_axis = defop("take_along_axis", _take_along_axis,
                        vjp=(lambda g, z, x, indices, axis: untake_along(g, indices, axis, x.shape), None),
                        jvp=(lambda t, z, x, indices, axis: take_along_axis(t, indices, axis), None))


# --- sorting -----------------------------------------------------------------------------------
def _argsort(x, axis=-1, descending=False):
    """int64 indices that sort x on ``axis``. Stable in both directions: equal entries keep
    their order, the lower index first (tf.argsort(stable=True), torch.argsort(stable=True))."""
    if descending:
        x = -(x.astype(np.float64) if x.dtype.kind in "bu" else x)
    return np.argsort(x, axis=axis, kind="stable").astype(np.int64)


argsort = defop("argsort", _argsort)  # not differentiable


@composite()
def sort(x, axis=-1, descending=False):
    """x sorted on ``axis`` (values only, as np.sort / tf.sort / jnp.sort; torch.sort also returns
    the indices, which are argsort's). Gradient: each position's goes to the entry sorted
    there; tied entries keep their order (stable), so the earlier one takes the earlier place."""
    return take_along_axis(x, argsort(x, axis, descending), axis)


@composite(outputs=2)
def topk(x, k, axis=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) entries on ``axis``, best first. Ties:
    the lower index first (tf.math.top_k documents the same; torch's tie order is unspecified),
    and only the entries picked receive gradient. Always sorted, whatever ``sorted`` says
    (frameworks leave the order of sorted=False unspecified)."""
    order = argsort(x, axis, largest)
    indices = order[(slice(None),) * (axis % x.ndim) + (slice(0, k),)]
    return take_along_axis(x, indices, axis), indices


# --- einsum ------------------------------------------------------------------------------------
def _subscripts(equation, ndims):
    """(input subscripts, output subscript) of ``equation`` with '...' spelled out as spare
    letters and the implicit output made explicit (NumPy's rule: '...' first, then the letters
    that appear once, in alphabetical order)."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    spare = [c for c in string.ascii_letters if c not in eq]
    counts = [nd - len(s.replace("...", "")) for s, nd in zip(ins, ndims)]
    n = max([c for s, c in zip(ins, counts) if "..." in s], default=0)
    dots = "".join(spare[:n])
    ins = [s.replace("...", dots[n - c:]) for s, c in zip(ins, counts)]
    if arrow:
        return ins, out.replace("...", dots)
    letters = "".join(ins)
    return ins, dots + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in dots))


def _einsum_vjp(i, g, z, *xs, equation):
    """Operand i's gradient: the einsum of g with the other operands, onto operand i's subscript.
    A letter repeated in it (a diagonal, 'ii') gets a fresh letter tied to it by an identity;
    letters found in operand i alone were summed there, so the gradient is broadcast along them."""
    ins, out = _subscripts(equation, [x.ndim for x in xs])
    spare = iter(c for c in string.ascii_letters if c not in "".join(ins) + out)
    operands, subs = [g] + [x for j, x in enumerate(xs) if j != i], [out] + [s for j, s in enumerate(ins) if j != i]
    letters = []
    for pos, c in enumerate(ins[i]):
        if c in letters:
            fresh = next(spare)
            operands.append(Tensor(np.eye(xs[i].shape[pos], dtype=g.dtype)))
            subs.append(c + fresh)
            c = fresh
        letters.append(c)
    present = set("".join(subs))
    kept = "".join(c for c in letters if c in present)
    gi = _einsum(operands, equation=",".join(subs) + "->" + kept)
    shape = tuple(gi.shape[kept.index(c)] if c in present else 1 for c in letters)
    full = np.broadcast_shapes(shape, xs[i].shape)  # the registry then sums broadcast axes back
    return reshape(gi, shape) if shape == full else broadcast_to(reshape(gi, shape), full)


_einsum = defop("einsum", lambda *xs, equation: np.einsum(equation, *xs),
                vjp=each(_einsum_vjp),
                jvp=each(lambda i, t, z, *xs, equation: _einsum([t if j == i else x for j, x in enumerate(xs)],
                                                                equation=equation)))


def einsum(*args, equation=None):
    """einsum("ij,jk->ik", a, b), as NumPy, torch, tf and jnp spell it ('...' and the implicit
    output included). einsum([a, b], "ij,jk->ik") and einsum([a, b], equation="ij,jk->ik")
    -- the list-first form of concat -- work too."""
    if equation is None:
        equation, *args = args
    if isinstance(equation, str):
        operands = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    else:  # list first
        operands, equation = equation, (args[0] if args else equation)
    return _einsum(list(operands), equation=equation)


_METHODS = dict(squeeze=squeeze, unsqueeze=expand_dims, flip=flip, tile=tile, argsort=argsort)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
