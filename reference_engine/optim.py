"""Optimizers: torch's step() over ``.grad`` and Keras' apply_gradients([(g, v), ...]).

SGD, Adam, AdamW, RMSprop and Adagrad; each class's docstring gives its update formula.
Where PyTorch and Keras place epsilon (or weight decay) differently, ``epsilon_style``
("torch" or "keras") picks one, with that library's defaults.

Updates are host-side NumPy on ``.data`` (as torch's are under no_grad).
apply_gradients is a recorded call, so it replays inside traced functions.
"""
import numpy as np

from .engine import Tensor, recorded


class Optimizer:
    def __init__(self, params=None, lr=None, learning_rate=None, weight_decay=0):
        if isinstance(params, (int, float)):  # Keras style: SGD(0.01)
            params, lr = None, params
        self.params = [] if params is None else list(params)
        self.lr = learning_rate if learning_rate is not None else lr
        self.weight_decay = weight_decay
        self.state = {}  # id(param) -> (param, its slots)

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None if set_to_none or p.grad is None else Tensor(np.zeros_like(p.grad.data))

    def step(self):
        """Update every param from its ``.grad`` (torch)."""
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad.data)

    def apply_gradients(self, grads_and_vars):
        """Update each variable from its gradient (Keras); None gradients are skipped."""
        self._apply(list(grads_and_vars))  # a list, not an iterator, so a replay sees the pairs again

    @recorded
    def _apply(self, grads_and_vars):
        for g, v in grads_and_vars:
            if g is not None:
                self._update(v, g.data if isinstance(g, Tensor) else np.asarray(g))

    def minimize(self, loss, var_list):
        """One step on ``loss()`` (a callable) w.r.t. ``var_list``: a tape plus apply_gradients."""
        from .tape import GradientTape
        with GradientTape() as tape:
            value = loss()
        self.apply_gradients(zip(tape.gradient(value, var_list), var_list))
        return value

    def _slots(self, p, **init):
        entry = self.state.get(id(p))
        if entry is None:
            entry = self.state[id(p)] = (p, dict(init))  # keeps p alive, so its id stays its own
        return entry[1]

    def _update(self, p, g):
        raise NotImplementedError


class SGD(Optimizer):
    """torch.optim.SGD:  g += wd*p;  v = mu*v + (1-dampening)*g  (v = g on the first step);
    g = g + mu*v if nesterov else v;  p -= lr*g.  With dampening=0 this equals Keras' momentum SGD."""

    def __init__(self, params=None, lr=None, momentum=0, dampening=0, nesterov=False, weight_decay=0,
                 learning_rate=None):
        super().__init__(params, lr, learning_rate, weight_decay)
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def _update(self, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            s = self._slots(p)
            s["v"] = g.copy() if "v" not in s else self.momentum * s["v"] + (1 - self.dampening) * g
            g = g + self.momentum * s["v"] if self.nesterov else s["v"]
        p.data = (p.data - self.lr * g).astype(p.data.dtype, copy=False)


class Adam(Optimizer):
    """Adam, with epsilon placed as either library places it.

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g**2;  t = step count.
    epsilon_style="torch" (torch.optim.Adam, optax.adam), eps default 1e-8:
        p -= lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m/(1-b1**t),  v_hat = v/(1-b2**t)
        weight_decay is L2: g += wd*p before the moments.
    epsilon_style="keras" (tf.keras.optimizers.Adam, "epsilon hat"), eps default 1e-7:
        alpha = lr * sqrt(1-b2**t) / (1-b1**t);  p -= alpha * m / (sqrt(v) + eps)
        weight_decay is decoupled (Keras 3): p -= lr*wd*p before the step.
    amsgrad keeps the running maximum of v (torch: of v, then bias-corrected) in the denominator.
    """

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=None, weight_decay=0, amsgrad=False,
                 epsilon_style="torch", learning_rate=None, beta_1=None, beta_2=None, epsilon=None):
        super().__init__(params, lr, learning_rate, weight_decay)
        if epsilon_style not in ("torch", "keras"):
            raise ValueError("epsilon_style is 'torch' or 'keras'")
        self.b1, self.b2 = beta_1 if beta_1 is not None else betas[0], beta_2 if beta_2 is not None else betas[1]
        eps = epsilon if epsilon is not None else eps
        self.eps = eps if eps is not None else 1e-8 if epsilon_style == "torch" else 1e-7
        self.amsgrad, self.style = amsgrad, epsilon_style
        self.decoupled = epsilon_style == "keras"  # AdamW sets it for either style

    def _update(self, p, g):
        s = self._slots(p, t=0, m=0.0, v=0.0, vmax=0.0)
        lr, b1, b2 = self.lr, self.b1, self.b2
        if self.weight_decay and not self.decoupled:
            g = g + self.weight_decay * p.data
        if self.weight_decay and self.decoupled:
            p.data = p.data - lr * self.weight_decay * p.data
        s["t"] += 1
        t = s["t"]
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        v = s["v"]
        if self.amsgrad:
            v = s["vmax"] = np.maximum(s["vmax"], v)
        if self.style == "torch":
            step = lr * (s["m"] / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + self.eps)
        else:
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(v) + self.eps)
        p.data = (p.data - step).astype(p.data.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), in either epsilon style:
        p -= lr * wd * p   (torch: p *= 1 - lr*wd; the same), then Adam's step without an L2 term.
    weight_decay defaults to torch.optim.AdamW's 1e-2 (Keras AdamW 0.004; optax.adamw 1e-4, also
    multiplied by the learning rate). epsilon_style="keras" gives keras.optimizers.AdamW."""

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=None, weight_decay=1e-2, amsgrad=False,
                 epsilon_style="torch", learning_rate=None, beta_1=None, beta_2=None, epsilon=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, epsilon_style, learning_rate, beta_1, beta_2,
                         epsilon)
        self.decoupled = True


def _style(style):
    if style not in ("torch", "keras"):
        raise ValueError("epsilon_style is 'torch' or 'keras'")
    return style


class RMSprop(Optimizer):
    """RMSprop with epsilon placed as either library places it. g is the gradient, t counts steps.

    epsilon_style="torch" (torch.optim.RMSprop; defaults lr 0.01, alpha 0.99, eps 1e-8):
        g += wd * p                                     (weight_decay: an L2 term)
        v = alpha * v + (1 - alpha) * g^2
        centered: a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps;  else d = sqrt(v) + eps
        momentum: b = momentum * b + g / d;  p -= lr * b;          else p -= lr * g / d
    epsilon_style="keras" (keras.optimizers.RMSprop; defaults lr 0.001, rho 0.9, eps 1e-7):
        p -= lr * wd * p                                (weight_decay: decoupled)
        v = rho * v + (1 - rho) * g^2
        centered: a = rho * a + (1 - rho) * g;  d = sqrt(v - a^2 + eps);  else d = sqrt(v + eps)
        momentum: b = momentum * b + lr * g / d;  p -= b;          else p -= lr * g / d
    With a constant lr the two momentum forms agree (Keras' b is lr times torch's). v, a, b start at 0.
    ``alpha`` and ``rho`` are the same parameter; ``eps`` and ``epsilon`` too.
    """

    def __init__(self, params=None, lr=None, alpha=None, eps=None, weight_decay=0, momentum=0, centered=False,
                 epsilon_style="torch", learning_rate=None, rho=None, epsilon=None):
        keras = _style(epsilon_style) == "keras"
        if isinstance(params, (int, float)):
            params, lr = None, params
        lr = learning_rate if learning_rate is not None else lr
        super().__init__(params, (0.001 if keras else 0.01) if lr is None else lr, None, weight_decay)
        rho = rho if rho is not None else alpha
        eps = epsilon if epsilon is not None else eps
        self.rho = (0.9 if keras else 0.99) if rho is None else rho
        self.eps = (1e-7 if keras else 1e-8) if eps is None else eps
        self.momentum, self.centered, self.style = momentum, centered, epsilon_style

    def _update(self, p, g):
        s = self._slots(p, v=0.0, a=0.0, b=0.0)
        lr, rho, eps, keras = self.lr, self.rho, self.eps, self.style == "keras"
        if self.weight_decay and keras:
            p.data = p.data - lr * self.weight_decay * p.data
        elif self.weight_decay:
            g = g + self.weight_decay * p.data
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        v = s["v"]
        if self.centered:
            s["a"] = rho * s["a"] + (1 - rho) * g
            v = v - s["a"] * s["a"]
        d = np.sqrt(v + eps) if keras else np.sqrt(v) + eps
        if self.momentum and keras:
            s["b"] = self.momentum * s["b"] + lr * g / d
            step = s["b"]
        elif self.momentum:
            s["b"] = self.momentum * s["b"] + g / d
            step = lr * s["b"]
        else:
            step = lr * g / d
        p.data = (p.data - step).astype(p.data.dtype, copy=False)


class Adagrad(Optimizer):
    """Adagrad: a running sum of squared gradients scales each step. t counts steps.

    epsilon_style="torch" (torch.optim.Adagrad; defaults lr 0.01, initial_accumulator_value 0, eps 1e-10):
        g += wd * p;  s += g^2;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    epsilon_style="keras" (keras.optimizers.Adagrad; defaults lr 0.001, initial_accumulator_value 0.1,
    eps 1e-7):
        p -= lr * wd * p (decoupled);  s += g^2;  p -= lr * g / sqrt(s + eps)
    (optax.adagrad: initial 0.1, eps 1e-7, also inside the root.)
    """

    def __init__(self, params=None, lr=None, lr_decay=0, weight_decay=0, initial_accumulator_value=None, eps=None,
                 epsilon_style="torch", learning_rate=None, epsilon=None):
        keras = _style(epsilon_style) == "keras"
        if isinstance(params, (int, float)):
            params, lr = None, params
        lr = learning_rate if learning_rate is not None else lr
        super().__init__(params, (0.001 if keras else 0.01) if lr is None else lr, None, weight_decay)
        eps = epsilon if epsilon is not None else eps
        self.eps = (1e-7 if keras else 1e-10) if eps is None else eps
        self.initial = (0.1 if keras else 0.0) if initial_accumulator_value is None else initial_accumulator_value
        self.lr_decay, self.style = lr_decay, epsilon_style

    def _update(self, p, g):
        s = self._slots(p, t=0, sum=np.full(p.data.shape, self.initial, p.data.dtype))
        s["t"] += 1
        keras = self.style == "keras"
        if self.weight_decay and keras:
            p.data = p.data - self.lr * self.weight_decay * p.data
        elif self.weight_decay:
            g = g + self.weight_decay * p.data
        s["sum"] = s["sum"] + g * g
        if keras:
            step = self.lr * g / np.sqrt(s["sum"] + self.eps)
        else:
            step = self.lr / (1 + (s["t"] - 1) * self.lr_decay) * g / (np.sqrt(s["sum"]) + self.eps)
        p.data = (p.data - step).astype(p.data.dtype, copy=False)
