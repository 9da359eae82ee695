"""Neural-network functions: activations, layers and losses.

Activations are primitives (``defop``) with their rules beside them. Layers and losses are
compositions of engine ops (``@composite``): their gradients -- of every order -- are those
of the ops they are made of, so they need no rules of their own.

Layouts are PyTorch's: channels first. Inputs NCW / NCHW, conv weights OIW / OIHW
(out_channels, in_channels/groups, kernel...), conv_transpose weights IOHW
(in_channels, out_channels/groups, kernel...). TensorFlow's CPU convolutions work in NHWC
with HWIO filters, so a TF spelling transposes; JAX's lax.conv_general_dilated takes any
layout through dimension_numbers.
"""
import builtins
import math

import numpy as np

from .array_ops import einsum, gather, pad, squeeze, take_along_axis
from .engine import Tensor
from .math_ops import _erf, argmax, erf, xlogy
from .math_ops import var as _var
from .ops import (
    _nothing_from,
    _select,
    abs,
    clone,
    composite,
    defop,
    exp,
    log_softmax,
    matmul,
    one_hot,
    reshape,
    sigmoid,
    softplus,
    sqrt,
    sum,
    tanh,
    transpose,
    untake,
    where,
)
from .ops import mean as _mean

_SQRT_2, _SQRT_2PI = math.sqrt(2), math.sqrt(2 * math.pi)
_GELU_C = math.sqrt(2 / math.pi)
# selu's constants (Klambauer et al. 2017), as torch, tf and jax define them
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


# --- activations ---------------------------------------------------------------------------
def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _gelu(x, approximate="none"):
    """x * Phi(x). approximate="none": the exact erf form (torch and tf default); "tanh":
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) -- jax.nn.gelu's *default*
    (approximate=True). tf.nn.gelu spells it approximate=True/False."""
    x = np.asarray(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / _SQRT_2))


def _gelu_grad(x, approximate):
    if approximate == "tanh":
        u = tanh(_GELU_C * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + u) + 0.5 * x * (1 - u * u) * _GELU_C * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + erf(x / _SQRT_2)) + x * exp(-0.5 * x * x) / _SQRT_2PI  # Phi(x) + x phi(x)


def _silu_grad(x):
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


# relu6 = min(max(x, 0), 6); the gradient passes on the open interval (0, 6): 0 at both kinks
# (torch's hardtanh rule, tf's Relu6Grad, jax.nn.relu6).
relu6 = defop("relu6", lambda x: np.clip(x, 0, 6),
              vjp=lambda g, z, x: _select((x > 0) * (x < 6), g, x), jvp=lambda t, z, x: _select((x > 0) * (x < 6), t))
# leaky_relu(x, alpha): x for x > 0, alpha*x otherwise; at 0 the slope is alpha (torch, tf).
# Defaults differ: torch negative_slope=0.01, jax negative_slope=0.01, tf.nn.leaky_relu alpha=0.2.
leaky_relu = defop("leaky_relu", lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
                   vjp=lambda g, z, x, alpha: where(x > 0, g, g * alpha) + _nothing_from(x),
                   jvp=lambda t, z, x, alpha: where(x > 0, t, t * alpha))
# elu(x, alpha): x for x > 0, alpha*(exp(x) - 1) otherwise; slope alpha*exp(x) = z + alpha there (and at 0).
elu = defop("elu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
            vjp=lambda g, z, x, alpha: where(x > 0, g, g * (z + alpha)),
            jvp=lambda t, z, x, alpha: where(x > 0, t, t * (z + alpha)))
selu = defop("selu", lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
             vjp=lambda g, z, x: where(x > 0, g * SELU_SCALE, g * (z + SELU_SCALE * SELU_ALPHA)),
             jvp=lambda t, z, x: where(x > 0, t * SELU_SCALE, t * (z + SELU_SCALE * SELU_ALPHA)))
gelu = defop("gelu", _gelu,
             vjp=lambda g, z, x, approximate: g * _gelu_grad(x, approximate),
             jvp=lambda t, z, x, approximate: t * _gelu_grad(x, approximate))
silu = defop("silu", lambda x: x * _sigmoid(x),  # x * sigmoid(x), a.k.a. swish
             vjp=lambda g, z, x: g * _silu_grad(x), jvp=lambda t, z, x: t * _silu_grad(x))
softsign = defop("softsign", lambda x: x / (1 + np.abs(x)),
                 vjp=lambda g, z, x: g / (1 + abs(x)) ** 2, jvp=lambda t, z, x: t / (1 + abs(x)) ** 2)
log_sigmoid = defop("log_sigmoid", lambda x: -np.logaddexp(0, -x),  # -softplus(-x), stably
                    vjp=lambda g, z, x: g * sigmoid(-x), jvp=lambda t, z, x: t * sigmoid(-x))


# --- convolution and pooling: windows gathered, then contracted -------------------------------
def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _padding(padding, sizes, kernel, stride, dilation):
    """((before, after), ...) for each spatial axis. An int or a tuple of ints pads both sides;
    a tuple of pairs is explicit; "valid" is no padding; "same" is TensorFlow's: out =
    ceil(in / stride), the odd extra pixel at the end (PyTorch pads the same way for stride 1,
    and refuses padding="same" with stride > 1)."""
    n = len(sizes)
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return ((0, 0),) * n
        pairs = []
        for size, k, s, d in zip(sizes, kernel, stride, dilation):
            total = builtins.max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pairs.append((total // 2, total - total // 2))
        return tuple(pairs)
    padding = _tuple(padding, n)
    return tuple(p if isinstance(p, (tuple, list)) else (p, p) for p in padding)


def _window_key(sizes, kernel, stride, dilation):
    """The getitem key that cuts a padded (N, C, *sizes) array into its windows:
    (N, C, *out, *kernel), window o's entry k at o*stride + k*dilation on each axis."""
    n = len(sizes)
    out = [(size - (k - 1) * d - 1) // s + 1 for size, k, s, d in zip(sizes, kernel, stride, dilation)]
    key = []
    for i, (o, k, s, d) in enumerate(zip(out, kernel, stride, dilation)):
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = o, 1
        starts = (np.arange(o) * s).reshape(shape)
        shape[i], shape[n + i] = 1, k
        key.append(starts + (np.arange(k) * d).reshape(shape))
    return (slice(None), slice(None)) + tuple(key), tuple(out)


def _windows(x, kernel, stride, padding, dilation, value=0.0):
    """x (N, C, *spatial) padded with ``value``, as windows (N, C, *out, *kernel)."""
    n = x.ndim - 2
    kernel, stride, dilation = _tuple(kernel, n), _tuple(stride, n), _tuple(dilation, n)
    pads = _padding(padding, x.shape[2:], kernel, stride, dilation)
    if any(b or a for b, a in pads):
        x = pad(x, ((0, 0), (0, 0)) + pads, "constant", value)
    key, out = _window_key(x.shape[2:], kernel, stride, dilation)
    if min(out) < 1:
        raise ValueError(f"the (padded) input {x.shape[2:]} is smaller than the (dilated) kernel {kernel}")
    return x[key], out


_LETTERS = "xyz", "ijk"  # out positions, kernel offsets (up to 3 spatial axes)


def _conv(x, w, b, stride, padding, dilation, groups):
    n = x.ndim - 2
    cols, out = _windows(x, w.shape[2:], stride, padding, dilation)       # (N, C, *out, *kernel)
    batch, c_in, c_out = x.shape[0], x.shape[1], w.shape[0]
    o, k = _LETTERS[0][:n], _LETTERS[1][:n]
    cols = reshape(cols, (batch, groups, c_in // groups) + cols.shape[2:])
    w = reshape(w, (groups, c_out // groups) + w.shape[1:])
    y = einsum(f"ngc{o}{k},gdc{k}->ngd{o}", cols, w)
    y = reshape(y, (batch, c_out) + tuple(out))
    return y if b is None else y + reshape(b, (c_out,) + (1,) * n)


@composite()
def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of x (N, C_in, W) with w (C_out, C_in/groups, K), plus b (C_out,):
    torch.nn.functional.conv1d's layout and attributes. padding: int, (left, right) pairs,
    "valid" or "same" (TensorFlow's rule, also for stride > 1)."""
    return _conv(x, w, b, stride, padding, dilation, groups)


@composite()
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of x (N, C_in, H, W) with w (C_out, C_in/groups, kH, kW), plus b (C_out,):
    torch.nn.functional.conv2d's layout (NCHW / OIHW) and attributes. stride, dilation: int or
    (h, w); padding: int, (h, w), ((top, bottom), (left, right)), "valid" or "same" (TF's rule:
    out = ceil(in / stride), the extra pixel at the bottom/right)."""
    return _conv(x, w, b, stride, padding, dilation, groups)


@composite()
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv2d in its input (torch.nn.functional.conv_transpose2d): x (N, C_in, H, W),
    w (C_in, C_out/groups, kH, kW), b (C_out,). Out size (H-1)*stride - 2*padding +
    dilation*(k-1) + output_padding + 1. Each input pixel scatters x * w into its window, and
    ``padding`` is then cropped from both sides. (tf.nn.conv2d_transpose takes the output shape
    and 'SAME'/'VALID' instead; jax.lax.conv_transpose has transpose_kernel=True for this layout.)"""
    n = 2
    stride, dilation = _tuple(stride, n), _tuple(dilation, n)
    padding, output_padding = _tuple(padding, n), _tuple(output_padding, n)
    batch, c_in, c_out = x.shape[0], x.shape[1], w.shape[1] * groups
    kernel = w.shape[2:]
    xs = reshape(x, (batch, groups, c_in // groups) + x.shape[2:])
    ws = reshape(w, (groups, c_in // groups, c_out // groups) + kernel)
    pieces = reshape(einsum("ngcxy,gcdij->ngdxyij", xs, ws), (batch, c_out) + x.shape[2:] + kernel)
    full = tuple((size - 1) * s + (k - 1) * d + 1 + op
                 for size, k, s, d, op in zip(x.shape[2:], kernel, stride, dilation, output_padding))
    if any(f - 2 * p < 1 for f, p in zip(full, padding)):
        raise ValueError(f"conv_transpose2d: padding {padding} leaves no output (full size {full})")
    key, _ = _window_key(full, kernel, stride, dilation)
    y = untake(pieces, key, (batch, c_out) + full)  # adds up where windows overlap
    y = y[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    return y if b is None else y + reshape(b, (c_out, 1, 1))


@composite()
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """The maximum of each window of x (N, C, H, W) (torch.nn.functional.max_pool2d; stride
    defaults to the kernel size). Padding is -inf; "same"/"valid" as conv2d. A tie gives the
    whole gradient to the window's first maximum in row-major order (as torch, TF and JAX
    pick one; the engine's amax splits ties instead)."""
    cols, out = _windows(x, kernel_size, kernel_size if stride is None else stride, padding, dilation, -np.inf)
    flat = reshape(cols, cols.shape[:4] + (-1,))
    return squeeze(take_along_axis(flat, argmax(flat, axis=-1, keepdims=True), -1), -1)


@composite()
def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """The mean of each window of x (N, C, H, W) (torch.nn.functional.avg_pool2d; stride defaults
    to the kernel size). Padding is zeros; count_include_pad=True divides by the window size
    (torch's default), False by the number of real pixels (TF's and Keras' padding='same')."""
    stride = kernel_size if stride is None else stride
    cols, out = _windows(x, kernel_size, stride, padding, 1)
    total = sum(cols, axis=(-2, -1))
    if count_include_pad:
        return total / (cols.shape[-2] * cols.shape[-1])
    ones = Tensor(np.ones((1, 1) + x.shape[2:], x.dtype))
    counts, _ = _windows(ones, kernel_size, stride, padding, 1)
    return total / sum(counts, axis=(-2, -1))


# --- normalisation ---------------------------------------------------------------------------
def _stat_axes(x, axis):
    return tuple(a for a in range(x.ndim) if a != axis % x.ndim)


def _channel(v, x, axis):
    """A per-channel vector shaped to broadcast against x, channels on ``axis``."""
    return reshape(v, tuple(x.shape[a] if a == axis % x.ndim else 1 for a in range(x.ndim)))


@composite()
def batch_norm(x, mean, var, gamma=None, beta=None, eps=1e-5, momentum=0.1, training=False, axis=1):
    """(x - mean) / sqrt(var + eps) * gamma + beta, per channel (``axis``; 1 = NCHW, PyTorch's;
    Keras' is -1). training=True normalises with the batch's own mean and biased variance (and
    the gradient flows through them); False with ``mean``/``var`` (the running statistics).
    eps: PyTorch's 1e-5 (Keras 1e-3). ``momentum`` does not change the output: updating the
    running statistics is state -- see batch_norm_stats."""
    if training:
        axes = _stat_axes(x, axis)
        mu, v = _mean(x, axes, True), _var(x, axes, 0, True)
    else:
        mu, v = _channel(mean, x, axis), _channel(var, x, axis)
    y = (x - mu) / sqrt(v + eps)
    if gamma is not None:
        y = y * _channel(gamma, x, axis)
    return y if beta is None else y + _channel(beta, x, axis)


@composite(outputs=2)
def batch_norm_stats(x, running_mean, running_var, momentum=None, axis=1, style="torch"):
    """The running statistics after one training step of batch_norm on x: (mean', var').

    style="torch" (torch.nn.BatchNorm*, F.batch_norm(training=True); momentum default 0.1):
        running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch
        variance stored (while the output used the biased one).
    style="keras" (keras.layers.BatchNormalization, flax.linen.BatchNorm; default 0.99):
        running = momentum * running + (1 - momentum) * batch, biased variance.
    The two momenta are each other's complement: torch's 0.1 is Keras' 0.9. Written in engine
    ops, so it has derivatives (PyTorch updates its buffers outside autograd: none there)."""
    axes = _stat_axes(x, axis)
    if style == "torch":
        m = 0.1 if momentum is None else momentum
        return (1 - m) * running_mean + m * _mean(x, axes), (1 - m) * running_var + m * _var(x, axes, 1)
    if style == "keras":
        m = 0.99 if momentum is None else momentum
        return m * running_mean + (1 - m) * _mean(x, axes), m * running_var + (1 - m) * _var(x, axes, 0)
    raise ValueError("style is 'torch' or 'keras'")


@composite(outputs=3)
def batch_norm_train(x, running_mean, running_var, gamma=None, beta=None, momentum=0.1, eps=1e-5, axis=1,
                     style="torch"):
    """One training step of a batch-norm layer and its state: (y, running_mean', running_var').

    y is batch_norm(x, training=True): the batch's mean and biased variance. The running
    statistics follow PyTorch's convention (``style="torch"``, the case language's): momentum
    is the batch's weight, default 0.1, and the unbiased batch variance is stored; told
    ``style="keras"``, momentum is the old statistics' weight (Keras and flax: default 0.99)
    and the stored variance is biased (see batch_norm_stats). eps: PyTorch's 1e-5 (Keras
    1e-3, flax 1e-5)."""
    y = batch_norm(x, None, None, gamma, beta, eps, training=True, axis=axis)
    mean, var = batch_norm_stats(x, running_mean, running_var, momentum, axis, style)
    return y, mean, var


@composite()
def layer_norm(x, gamma=None, beta=None, eps=1e-5, axis=-1):
    """(x - mean) / sqrt(var + eps) * gamma + beta over ``axis`` (an int or a tuple: torch's
    normalized_shape is the trailing axes), biased variance; gamma and beta have the
    normalised axes' shape. eps: PyTorch's 1e-5 (Keras LayerNormalization 1e-3)."""
    mu, v = _mean(x, axis, True), _var(x, axis, 0, True)
    y = (x - mu) / sqrt(v + eps)
    if gamma is not None:
        y = y * gamma
    return y if beta is None else y + beta


@composite()
def embedding(indices, table):
    """The rows of ``table`` (num_embeddings, dim) that ``indices`` pick: gather(table, indices, 0)
    (torch.nn.functional.embedding(input, weight), tf.nn.embedding_lookup(params, ids),
    jnp.take(table, ids, axis=0)). Repeated indices add up their gradients."""
    return gather(table, indices, 0)


def _linear(x, w, b):
    y = matmul(x, transpose(w))
    return y if b is None else y + b


def _split(v, parts):
    size = v.shape[-1] // parts
    return [v[..., i * size:(i + 1) * size] for i in range(parts)]


def _layout(layout):
    if layout not in ("canonical", "native"):
        raise ValueError(f"layout is 'canonical' or 'native', not {layout!r}")


@composite(outputs=2)
def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, layout="canonical"):
    """One LSTM step, torch.nn.LSTMCell's layout: w_ih (4H, I), w_hh (4H, H), two biases (4H,),
    gates stacked in the order i, f, g, o (input, forget, cell candidate, output):
        i, f, g, o = split(x w_ih^T + b_ih + h w_hh^T + b_hh)
        c' = sigmoid(f) c + sigmoid(i) tanh(g);   h' = sigmoid(o) tanh(c')
    Returns (h', c'). Keras' LSTMCell: the same gate order (i, f, c, o), but kernel (I, 4H) and
    recurrent_kernel (H, 4H) -- the transposes -- and one bias (b_ih + b_hh).
    ``layout``: this layout is the canonical one; "native" (the arrays loaded into a
    framework's own layer as they are) is the same computation in the engine, whose own
    layer this is."""
    _layout(layout)
    i, f, g, o = _split(_linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh), 4)
    c1 = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c1), c1


@composite()
def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, layout="canonical"):
    """One GRU step, torch.nn.GRUCell's layout: w_ih (3H, I), w_hh (3H, H), two biases (3H,),
    gates in the order r, z, n (reset, update, new):
        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr);   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn));   h' = (1 - z) n + z h
    Keras' GRUCell orders them z, r, h, with kernel (I, 3H) and, with reset_after=True (its
    default), the same formula and a (2, 3H) bias; reset_after=False applies r before W_hn.
    ``layout``: as lstm_cell's (loaded as-is into Keras' GRUCell, the r and z blocks swap)."""
    _layout(layout)
    xr, xz, xn = _split(_linear(x, w_ih, b_ih), 3)
    hr, hz, hn = _split(_linear(h, w_hh, b_hh), 3)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = tanh(xn + r * hn)
    return (1 - z) * n + z * h


@composite()
def dropout(x, rate=0.0, training=False):
    """Identity when rate == 0 or not training; random masks are not part of the oracle.
    Note torch.nn.functional.dropout defaults to training=True, tf.nn.dropout always drops."""
    if training and rate > 0:
        raise NotImplementedError("dropout: only rate=0 or training=False (the identity) is implemented")
    return clone(x)


# --- losses ------------------------------------------------------------------------------------
def _reduce(loss, reduction):
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction is 'mean', 'sum' or 'none', not {reduction!r}")


@composite()
def cross_entropy(logits, labels, label_smoothing=0.0, reduction="mean", axis=-1):
    """Softmax cross-entropy from logits; classes on ``axis`` (last: TF, Keras, optax; torch
    puts them on axis 1, the same for 2-d logits). labels: integer class indices (logits'
    shape without ``axis``) or probabilities / one-hot (logits' shape). Label smoothing:
    y -> y (1 - e) + e / K, for either kind (torch and Keras agree). Per sample:
    -sum(y * log_softmax(logits)); reduction "mean" over samples, "sum", or "none".
    An index outside [0, K) gives a zero row (the sample contributes 0 but still counts in the
    mean; torch's ignore_index drops it from the mean instead)."""
    k = logits.shape[axis]
    logp = log_softmax(logits, axis)
    if labels.dtype.kind in "iub":
        labels = one_hot(labels, k, logits.dtype)
        if axis % logits.ndim != logits.ndim - 1:
            labels = transpose(labels, _moved_back(logits.ndim, axis))
    if label_smoothing:
        labels = labels * (1 - label_smoothing) + label_smoothing / k
    return _reduce(-sum(labels * logp, axis), reduction)


def _moved_back(ndim, axis):
    """The permutation that puts a last axis (one_hot's) at ``axis``."""
    axis %= ndim
    return tuple(range(axis)) + (ndim - 1,) + tuple(range(axis, ndim - 1))


@composite()
def binary_cross_entropy_with_logits(logits, labels, reduction="mean", pos_weight=None):
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed stably from the logits as
    softplus(x) - x*y (torch.nn.functional.binary_cross_entropy_with_logits; tf.nn.
    sigmoid_cross_entropy_with_logits(labels, logits) takes the arguments the other way round
    and does not reduce). pos_weight p weighs the positive term: (1-y) x + (1 + (p-1) y) softplus(-x)."""
    if pos_weight is None:
        loss = softplus(logits) - logits * labels
    else:
        loss = (1 - labels) * logits + (1 + (pos_weight - 1) * labels) * softplus(-logits)
    return _reduce(loss, reduction)


@composite()
def huber(input, target, delta=1.0, reduction="mean"):
    """Per entry, d = input - target: 0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) beyond
    (torch.nn.functional.huber_loss(delta=); keras.losses.Huber averages over the last axis
    first, the same mean; optax.huber_loss does not reduce). The second derivative at
    |d| == delta is taken from the inside (1)."""
    d = input - target
    inside = abs(d) <= delta
    return _reduce(where(inside, 0.5 * d * d, delta * (abs(d) - 0.5 * delta)), reduction)


@composite()
def kl_div(input, target, reduction="mean", log_target=False):
    """torch.nn.functional.kl_div: ``input`` is log-probabilities, ``target`` probabilities
    (log-probabilities with log_target=True); pointwise target * (log(target) - input), 0 where
    target is 0. reduction: "mean" over all entries (torch's default), "batchmean" (the sum over
    the first axis' size: the true KL divergence per sample), "sum", "none".
    keras.losses.KLDivergence(y_true, y_pred) takes two probability tensors and sums over the
    last axis; optax.kl_divergence(log_predictions, targets) sums over the last axis too."""
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        return sum(loss) / (loss.shape[0] if loss.ndim else 1)
    return _reduce(loss, reduction)

