"""reference_engine: a small, readable NumPy autodiff engine -- the harness's oracle.

PyTorch-style (tensor, backward, autograd.grad, Function, no_grad) and TensorFlow-style
(Variable, GradientTape, function, Graph/Session, Module) front ends share one graph
machinery (engine.py) and one op registry (ops.py).
"""
import numpy as _np

from . import autograd, linalg, nn, optim
from .array_ops import argsort, einsum, expand_dims, flip, gather, pad, sort, squeeze, take_along_axis, tile, topk
from .autograd import Function, enable_grad, no_grad, set_grad_enabled
from .engine import Tensor, ones, tensor, zeros
from .forward import jacfwd, jvp
from .graph import Graph, Session, placeholder, print_, while_loop
from .linalg import cholesky, det, eigh, eigvalsh, inv, norm, slogdet, solve, svd, svdvals, vector_norm
from .math_ops import (
                  acos,
                  acosh,
                  argmax,
                  argmin,
                  asin,
                  asinh,
                  atan,
                  atan2,
                  atanh,
                  ceil,
                  cosh,
                  cumprod,
                  cumsum,
                  digamma,
                  erf,
                  erfc,
                  expm1,
                  floor,
                  fmod,
                  lgamma,
                  log1p,
                  logsumexp,
                  max,
                  min,
                  polygamma,
                  prod,
                  reciprocal,
                  remainder,
                  round,
                  rsqrt,
                  sinh,
                  squared_difference,
                  std,
                  tan,
                  trunc,
                  var,
                  xlogy,
)
from .module import Module
from .nn import (
                  avg_pool2d,
                  batch_norm,
                  batch_norm_stats,
                  batch_norm_train,
                  binary_cross_entropy_with_logits,
                  conv1d,
                  conv2d,
                  conv_transpose2d,
                  cross_entropy,
                  dropout,
                  elu,
                  embedding,
                  gelu,
                  gru_cell,
                  huber,
                  kl_div,
                  layer_norm,
                  leaky_relu,
                  log_sigmoid,
                  lstm_cell,
                  max_pool2d,
                  relu6,
                  selu,
                  silu,
                  softsign,
)
from .ops import (
                  abs,
                  add,
                  amax,
                  amin,
                  broadcast_to,
                  cast,
                  clamp,
                  clip,
                  clone,
                  concat,
                  conj,
                  cos,
                  detach,
                  div,
                  eq,
                  exp,
                  ge,
                  getitem,
                  gt,
                  imag,
                  le,
                  log,
                  log_softmax,
                  lt,
                  manual_seed,
                  matmul,
                  maximum,
                  mean,
                  minimum,
                  mse_loss,
                  mul,
                  ne,
                  neg,
                  one_hot,
                  ones_like,
                  pow,
                  random_normal,
                  real,
                  relu,
                  reshape,
                  sigmoid,
                  sign,
                  sin,
                  softmax,
                  softplus,
                  sqrt,
                  square,
                  stack,
                  string_join,
                  sub,
                  sum,
                  sum_to,
                  tanh,
                  transpose,
                  where,
                  zeros_like,
)
from .tape import GradientTape, Variable, constant
from .tracing import TensorSpec, function

float16, float32, float64 = _np.dtype("float16"), _np.dtype("float32"), _np.dtype("float64")
complex64, complex128 = _np.dtype("complex64"), _np.dtype("complex128")
int32, int64, bool_ = _np.dtype("int32"), _np.dtype("int64"), _np.dtype("bool")
string = _np.dtype(object)  # text is held as bytes objects, as TensorFlow's tf.string

__all__ = [
    # PyTorch-style
    "Tensor", "tensor", "zeros", "ones", "autograd", "Function", "no_grad", "enable_grad", "set_grad_enabled", "optim",
    # TensorFlow-style
    "Variable", "constant", "GradientTape", "function", "TensorSpec", "Graph", "Session", "placeholder",
    "while_loop", "print_", "Module",
    # forward mode
    "jvp", "jacfwd",
    # ops
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "transpose", "reshape", "broadcast_to", "sum_to", "sum",
    "mean", "amax", "amin", "exp", "log", "sqrt", "square", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "relu",
    "softplus", "softmax", "log_softmax", "maximum", "minimum", "clamp", "clip", "where", "one_hot", "getitem",
    "concat", "stack", "cast", "clone", "detach", "ones_like", "zeros_like", "mse_loss", "lt", "le", "gt", "ge",
    "eq", "ne", "string_join", "random_normal", "manual_seed", "conj", "real", "imag",
    # more elementwise math (math_ops.py)
    "log1p", "expm1", "rsqrt", "reciprocal", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
    "atanh", "erf", "erfc", "lgamma", "digamma", "polygamma", "floor", "ceil", "round", "trunc",
    "atan2", "remainder", "fmod", "xlogy", "squared_difference",
    # reductions and scans (math_ops.py)
    "min", "max", "prod", "std", "var", "logsumexp", "cumsum", "cumprod", "argmax", "argmin",
    # shapes and indexing (array_ops.py)
    "squeeze", "expand_dims", "tile", "flip", "pad", "gather", "take_along_axis", "argsort", "sort", "topk", "einsum",
    # linear algebra (linalg.py)
    "linalg", "det", "slogdet", "inv", "solve", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "norm",
    "vector_norm",
    # activations, layers and losses (nn.py)
    "nn", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "softsign", "log_sigmoid", "conv1d", "conv2d",
    "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm", "batch_norm_stats", "batch_norm_train",
    "layer_norm", "embedding", "lstm_cell", "gru_cell", "dropout", "cross_entropy", "binary_cross_entropy_with_logits",
    "huber", "kl_div",
    # dtypes
    "float16", "float32", "float64", "complex64", "complex128", "int32", "int64", "bool_", "string",
]
