"""Time reference_engine against HIPS autograd and PyTorch eager on the CPU.

    python benchmarks/bench_engine.py            # 30000 Himmelblau steps, 2000 MLP steps
    python benchmarks/bench_engine.py --quick    # a tenth of that

Two workloads, each written three times in each library's own idiom:
  himmelblau  plain gradient descent on f(x, y) = (x^2+y-11)^2 + (x+y^2-7)^2 from [0, 0],
              lr 0.001 -- tiny tensors, so the time is per-op overhead;
  mlp         one training step of a 2-layer MLP (batch 64, 32 -> 64 -> 10, tanh, MSE, SGD).
Not a test: it prints times and ratios (engine / other; < 1 means the engine is faster).
"""
import argparse
import time

import numpy as np


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def engine_himmelblau(steps):
    import reference_engine as re
    x = re.tensor([0.0, 0.0], requires_grad=True)
    for _ in range(steps):
        (g,) = re.autograd.grad(himmelblau(x), [x])
        x.data -= 0.001 * g.data
    return x.numpy()


def hips_himmelblau(steps):
    import autograd
    grad = autograd.grad(himmelblau)
    x = np.zeros(2, np.float32)
    for _ in range(steps):
        x = x - np.float32(0.001) * grad(x)
    return x


def torch_himmelblau(steps):
    import torch
    torch.set_num_threads(1)  # thread start-up swamps tensors this small
    x = torch.tensor([0.0, 0.0], requires_grad=True)
    for _ in range(steps):
        (g,) = torch.autograd.grad(himmelblau(x), [x])
        with torch.no_grad():
            x -= 0.001 * g
    return x.detach().numpy()


def mlp_data():
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    return dict(x=f32(64, 32), y=f32(64, 10), w1=f32(32, 64) / 6, b1=np.zeros(64, np.float32),
                w2=f32(64, 10) / 8, b2=np.zeros(10, np.float32))


def engine_mlp(steps):
    import reference_engine as re
    d = mlp_data()
    x, y = re.tensor(d["x"]), re.tensor(d["y"])
    params = [re.tensor(d[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
    opt = re.optim.SGD(params, lr=0.01)
    for _ in range(steps):
        w1, b1, w2, b2 = params
        loss = re.mse_loss(re.tanh(x @ w1 + b1) @ w2 + b2, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def hips_mlp(steps):
    import autograd
    import autograd.numpy as anp
    d = mlp_data()
    params = [d[k] for k in ("w1", "b1", "w2", "b2")]

    def loss(params):
        w1, b1, w2, b2 = params
        return anp.mean((anp.tanh(d["x"] @ w1 + b1) @ w2 + b2 - d["y"]) ** 2)
    value_and_grad = autograd.value_and_grad(loss)
    for _ in range(steps):
        value, grads = value_and_grad(params)
        params = [p - np.float32(0.01) * g for p, g in zip(params, grads)]
    return float(value)


def torch_mlp(steps):
    import torch
    torch.set_num_threads(1)
    d = mlp_data()
    x, y = torch.tensor(d["x"]), torch.tensor(d["y"])
    params = [torch.tensor(d[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
    opt = torch.optim.SGD(params, lr=0.01)
    for _ in range(steps):
        w1, b1, w2, b2 = params
        loss = torch.nn.functional.mse_loss(torch.tanh(x @ w1 + b1) @ w2 + b2, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def timed(fn, steps):
    fn(10)  # imports and first-call costs stay out of the timing
    start = time.perf_counter()
    result = fn(steps)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    workloads = [("himmelblau", 30000 // scale, engine_himmelblau, hips_himmelblau, torch_himmelblau),
                 ("mlp", 2000 // scale, engine_mlp, hips_mlp, torch_mlp)]
    for name, steps, *fns in workloads:
        print(f"{name}: {steps} steps")
        times = {}
        for label, fn in zip(("reference_engine", "HIPS autograd", "PyTorch eager"), fns):
            try:
                seconds, result = timed(fn, steps)
            except ImportError as e:
                print(f"  {label:17s} skipped ({e})")
                continue
            times[label] = seconds
            print(f"  {label:17s} {seconds:8.3f} s  {1e6 * seconds / steps:8.1f} us/step  result {np.round(result, 5)}")
        for other in ("HIPS autograd", "PyTorch eager"):
            if other in times and "reference_engine" in times:
                print(f"  engine / {other}: {times['reference_engine'] / times[other]:.2f}")


if __name__ == "__main__":
    main()
