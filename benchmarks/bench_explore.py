"""How fast the explorer goes: programs generated per second (hypothesis, alone), programs
evaluated per second per column (eager and compiled: the seconds each column's scripts ran,
from the workers' observations), programs per second overall (workers in parallel, shrinking
included), and the time to the first ten distinct divergences.

    .venv/bin/python benchmarks/bench_explore.py [--budget 120] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.explore import DEFAULT_FRAMEWORKS, Explorer, declared  # noqa: E402
from harness.explore.evaluate import WorkerEvaluator  # noqa: E402
from harness.explore.generate import Generator  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=12)
    args = ap.parse_args()
    gen = Generator(args.seed + 1, frameworks=list(DEFAULT_FRAMEWORKS))
    t0 = time.perf_counter()
    gen.programs(0, 1000)
    rate = 1000 / (time.perf_counter() - t0)
    print(f"generation: {rate:.0f} programs/s (hypothesis, 1000 programs in blocks of "
          f"{gen.block})")
    t0 = time.monotonic()
    evaluator = WorkerEvaluator(list(DEFAULT_FRAMEWORKS))
    startup = time.monotonic() - t0
    with tempfile.TemporaryDirectory() as out:
        gen = Generator(args.seed, frameworks=list(DEFAULT_FRAMEWORKS))
        ex = Explorer(evaluator, gen, out, seed=args.seed, known=declared(), batch=args.batch)
        start = time.monotonic()
        stats = ex.run(args.budget)
        wall = time.monotonic() - start
        evaluator.close()
    print(f"workers started in {startup:.1f} s; {wall:.1f} s exploring, {stats.programs} "
          f"programs ({stats.programs / wall:.2f}/s overall, shrinking included), "
          f"{stats.shrink_candidates} shrink candidates, evaluation {stats.eval_s:.1f} s, "
          f"generation {gen.generated_s:.1f} s")
    print(f"{'column':24} {'programs':>9} {'script s':>9} {'programs/s':>11}")
    for column in evaluator.columns:
        n = evaluator.column_programs.get(column, 0)
        s = evaluator.column_s.get(column, 0.0)
        print(f"{column:24} {n:9d} {s:9.1f} {n / s if s else 0:11.1f}")
    times = [f.found_at_s for f in stats.findings]
    tenth = f"{times[9]:.1f} s" if len(times) >= 10 else f"not reached ({len(times)} found)"
    print(f"distinct divergences: {len(times)}; time to the first ten: {tenth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
