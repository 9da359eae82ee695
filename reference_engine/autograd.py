"""torch.autograd's API over the engine: grad, backward, Function, no_grad."""
import contextlib

from . import engine
from .engine import FREED, Node, Tensor, backward_pass, recorded, seeds

UNUSED = ("One of the differentiated Tensors appears to not have been used in the graph. "
          "Set allow_unused=True if this is the desired behavior.")


def _tensors(x):
    return [x] if isinstance(x, Tensor) else list(x)


def _grads(g, n):
    return [None] * n if g is None else _tensors(g) if isinstance(g, (Tensor, list, tuple)) else [g]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(sum of tensors)/d(leaf) into each leaf's .grad (torch.autograd.backward)."""
    tensors = _tensors(tensors)
    backward_pass(tensors, seeds(tensors, _grads(grad_tensors, len(tensors))),
                  create_graph if retain_graph is None else retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` (weighted by ``grad_outputs``) w.r.t. ``inputs``, as a tuple.
    Several outputs add up. create_graph=True records the sweep, so the result is differentiable."""
    outputs, inputs = _tensors(outputs), _tensors(inputs)
    if not all(x._requires_grad for x in inputs):
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    found = backward_pass(outputs, seeds(outputs, _grads(grad_outputs, len(outputs))),
                          create_graph if retain_graph is None else retain_graph, create_graph, inputs)
    result = tuple(found.get(id(x)) for x in inputs)
    if not allow_unused and any(g is None for g in result):
        raise RuntimeError(UNUSED)
    return result


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off inside a with-block (or a decorated function)."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev, engine._grad_enabled = engine._grad_enabled, self.mode

    def __exit__(self, *exc):
        engine._grad_enabled = self.prev


class no_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


def is_grad_enabled():
    return engine._grad_enabled


class Context:
    """The ``ctx`` of a custom Function: carries values from forward to backward."""

    def __init__(self):
        self._saved, self.needs_input_grad = (), ()

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError(FREED)
        return self._saved


class FunctionNode(Node):
    """grad_fn of a custom Function's output; ``saved`` holds the ctx."""
    __slots__ = ()
    function = None  # the Function subclass (set on MyReLUBackward etc.)

    def __init__(self, parents, ctx):
        self.parents, self.saved, self.attrs = parents, ctx, None

    def vjp(self, g, wanted):
        grads = self.function.backward(self.saved, g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return [None if not w or gi is None else gi if isinstance(gi, Tensor) else Tensor(gi)
                for gi, w in zip(grads, wanted)]

    def release(self):
        self.saved._saved = None  # what save_for_backward kept; the ctx's other attributes stay


class Function:
    """A custom differentiable op (torch.autograd.Function): subclass it with static
    ``forward(ctx, *args)`` and ``backward(ctx, grad_output)``, then call ``apply``.
    backward receives and returns Tensors; written with engine ops, it is itself
    differentiable under create_graph."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node = type(cls.__name__ + "Backward", (FunctionNode,), {"__slots__": (), "function": cls})

    @classmethod
    def apply(cls, *args):
        return _apply(cls, *args)


@recorded  # in a traced function, the whole custom op replays as one call
def _apply(cls, *args):
    ctx = Context()
    with no_grad():
        out = cls.forward(ctx, *args)
    out = out if isinstance(out, Tensor) and not any(out is a for a in args) else Tensor(out)
    parents = tuple(a if isinstance(a, Tensor) and a._requires_grad else None for a in args)
    if engine._grad_enabled and any(p is not None for p in parents) and out.data.dtype.kind == "f":
        ctx.needs_input_grad = tuple(p is not None for p in parents)
        out._requires_grad, out.grad_fn = True, cls._node(parents, ctx)
    if any(level.get(id(a)) for level in engine._jvp_levels for a in args if isinstance(a, Tensor)):
        raise NotImplementedError(f"{cls.__name__} has no jvp rule (custom Functions are reverse-mode only)")
    return out
