"""Time each column's 30000-step Himmelblau checks against the same loop written by hand.

    python benchmarks/bench_columns.py              # SGD and Adam, 30000 steps, every column
    python benchmarks/bench_columns.py --repeat 3   # best of three runs each

The harness runs a check by rendering it as a script in the column's dialect and executing
it (``harness.scripts.observe_check``); the hand-written loops below are what a user of each
framework writes for the same descent (from [0, 0], lr 0.001, recording every 500 steps).
The cases set ``fast_path: true``, so the eager TensorFlow and JAX columns run their loop
compiled, as the compiled columns do; the hand-written eager loops do not, so those ratios
fall below 1. Not a test: it prints seconds and ratios (harness / hand; target <= 1.1).
"""
from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

STEPS, EVERY, LR = 30000, 500, 0.001


def f(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


# ---- the loops by hand ------------------------------------------------------------------


def torch_loop(opt_name):
    import torch
    x = torch.tensor([0.0, 0.0], requires_grad=True)
    opt = torch.optim.SGD([x], lr=LR) if opt_name == "sgd" else torch.optim.Adam([x], lr=LR)
    record = []
    for step in range(STEPS):
        loss = f(x)
        if step % EVERY == 0:
            record.append((x.detach().clone(), loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return x.detach().numpy()


def tensorflow_loop(opt_name, staged):
    import tensorflow as tf
    x = tf.Variable([0.0, 0.0])
    opt = tf.keras.optimizers.SGD(LR) if opt_name == "sgd" else tf.keras.optimizers.Adam(LR)

    def train_step():
        with tf.GradientTape() as tape:
            loss = f(x)
        opt.apply_gradients([(tape.gradient(loss, x), x)])
        return loss

    step_fn = tf.function(train_step) if staged else train_step
    record = []
    for step in range(STEPS):
        loss = step_fn()
        if step % EVERY == 0:
            record.append((x.numpy(), loss.numpy()))
    return x.numpy()


def jax_loop(opt_name, jitted):
    import jax
    import jax.numpy as jnp
    import optax
    tx = optax.sgd(LR) if opt_name == "sgd" else optax.adam(LR)
    params = jnp.zeros(2)
    state = tx.init(params)

    def update(params, state):
        loss, grads = jax.value_and_grad(f)(params)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    update = jax.jit(update) if jitted else update
    record = []
    for step in range(STEPS):
        params, state, loss = update(params, state)
        if step % EVERY == 0:
            record.append((params, loss))
    return np.asarray(params)


HAND = {
    "torch": lambda o: torch_loop(o),
    "tensorflow": lambda o: tensorflow_loop(o, staged=False),
    "tensorflow[function]": lambda o: tensorflow_loop(o, staged=True),
    "jax": lambda o: jax_loop(o, jitted=False),
    "jax[jit]": lambda o: jax_loop(o, jitted=True),
}


# ---- the harness's columns ------------------------------------------------------------------


def checks():
    from harness.cases import load_file
    cases = {c.id: c for c in load_file("cases/optimizers.yaml").cases}
    for opt, case_id, check_id in (("sgd", "himmelblau-sgd", None),
                                   ("adam", "himmelblau-adam", "adam-default-epsilon")):
        case = cases[case_id]
        cid = check_id or case.check_ids[0]
        yield opt, case, cid, case.check(cid)


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from harness.dialects import FRAMEWORKS, dialect
    from harness.scripts import observe_check

    print(f"{'column':22} {'optimizer':9} {'harness s':>10} {'by hand s':>10} {'ratio':>6}")
    for name, framework in FRAMEWORKS.items():
        if name == "reference" or importlib.util.find_spec(framework.imports) is None:
            continue
        d = dialect(name)
        for mode in d.modes:
            column = d.column(mode)
            for opt, case, cid, check in checks():
                obs = observe_check(case, check, cid, d, mode)
                assert obs.status == "ok", (column, obs.status, obs.value)
                ours = best(lambda: observe_check(case, check, cid, d, mode), args.repeat)
                hand = best(lambda: HAND[column](opt), args.repeat)
                print(f"{column:22} {opt:9} {ours:10.2f} {hand:10.2f} {ours / hand:6.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
