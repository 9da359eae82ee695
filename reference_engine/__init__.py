"""reference_engine: a small, readable NumPy autodiff engine -- the harness's oracle.

PyTorch-style (tensor, backward, autograd.grad, Function, no_grad) and TensorFlow-style
(Variable, GradientTape, function, Graph/Session, Module) front ends share one graph
machinery (engine.py) and one op registry (ops.py).
"""
import numpy as _np

from . import autograd, optim
from .autograd import Function, enable_grad, no_grad, set_grad_enabled
from .forward import jacfwd, jvp
from .graph import Graph, Session, placeholder, print_, while_loop
from .module import Module
from .ops import (abs, add, amax, amin, broadcast_to, cast, clamp, clip, clone, concat, cos, detach, div, eq, exp,
                  ge, getitem, gt, le, log, log_softmax, lt, manual_seed, matmul, maximum, mean, minimum, mse_loss,
                  mul, ne, neg, one_hot, ones_like, pow, random_normal, relu, reshape, sigmoid, sign, sin, softmax,
                  softplus, sqrt, square, stack, string_join, sub, sum, sum_to, tanh, transpose, where, zeros_like)
from .tape import GradientTape, Variable, constant
from .engine import Tensor, ones, tensor, zeros
from .tracing import TensorSpec, function

float32, float64 = _np.dtype("float32"), _np.dtype("float64")
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
    "eq", "ne", "string_join", "random_normal", "manual_seed",
    # dtypes
    "float32", "float64", "int32", "int64", "bool_", "string",
]
