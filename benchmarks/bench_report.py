"""How fast the reports render for a large run.

    python benchmarks/bench_report.py                 # 2000 verdicts
    python benchmarks/bench_report.py --rows 10000 --out reports/bench.html
    python benchmarks/bench_report.py --browser       # also: time to open it in headless Chromium

Synthesises a results document (docs/results.md) with N rows over the six backend columns:
two checks per case, a realistic mix of verdicts, small and large arrays, errors, nulls,
repro scripts, and one optimize check with trajectories in every 40 (plotted). Prints the
render time and size of the HTML report and the JUnit XML.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.report import render_html, write_html, write_junit  # noqa: E402

BACKENDS = [("reference", "reference", "eager"), ("torch", "torch", "eager"), ("tensorflow", "tensorflow", "eager"),
            ("tensorflow[function]", "tensorflow", "function"), ("jax", "jax", "eager"), ("jax[jit]", "jax", "jit")]
STATUS_MIX = ["pass"] * 80 + ["n/a"] * 8 + ["divergence"] * 5 + ["fail"] * 3 + ["skipped"] * 2 + ["error", "fixed"]
TOPICS = ["custom_functions", "unconnected_gradients", "graph_semantics", "kinks", "special_values",
          "broadcasting", "optimizers", "tracing", "higher_order", "checkpoint", "jvp", "static_graph"]


def _array(rng, shape):
    n = math.prod(shape)
    flat = [round(rng.uniform(-3, 3), 6) for _ in range(n)]

    def nest(data, dims):
        if not dims:
            return data[0]
        if len(dims) == 1:
            return data[:dims[0]]
        step = math.prod(dims[1:])
        return [nest(data[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])]
    return {"array": nest(flat, list(shape)), "dtype": rng.choice(["float32", "float64"]), "shape": list(shape)}


def _trajectory(rng, points=41):
    x, y, out = 0.0, 0.0, {"x": [], "loss": []}
    for _ in range(points):
        out["x"].append([round(x, 5), round(y, 5)])
        out["loss"].append(round((x * x + y - 11) ** 2 + (x + y * y - 7) ** 2, 5))
        x += (3 - x) * 0.15 + rng.uniform(-0.01, 0.01)
        y += (2 - y) * 0.15 + rng.uniform(-0.01, 0.01)
    return out


def synthesise(n_rows: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    cases, rows = {}, []
    n_checks = math.ceil(n_rows / len(BACKENDS))
    for c in range(n_checks):
        case_id = f"case-{c // 2:04d}"
        check_id = f"check-{c % 2}"
        optimize = c % 40 == 7
        kind = "optimize" if optimize else rng.choice(["grad", "value", "jvp", "graph", "trace"])
        if case_id not in cases:
            topic_file = f"cases/{TOPICS[(c // 2) % len(TOPICS)]}.yaml"
            cases[case_id] = {"title": f"Synthetic case {c // 2}", "file": topic_file,
                              "line": 1 + 20 * (c // 2 % 9), "topic": TOPICS[(c // 2) % len(TOPICS)],
                              "covers": [f"S{c % 13:03d}-{c % 7:02d}"],
                              "source": f"{c % 13:03d} §Section", "checks": []}
        shape = rng.choice([[], [3], [2, 2], [4, 3], [16, 16], [30, 20]])
        expect = _trajectory(rng) if optimize else (_array(rng, shape) if shape else round(rng.uniform(-5, 5), 6))
        check = {"id": check_id, "kind": kind, "summary": f"d loss / d w ({kind})", "expect": expect}
        if optimize:
            check["plot"] = {"kind": "contour", "function": "himmelblau"}
        cases[case_id]["checks"].append(check)
        for backend, framework, mode in BACKENDS:
            if len(rows) >= n_rows:
                break
            status = rng.choice(STATUS_MIX)
            observed = expect
            if status == "fail" and not optimize and isinstance(expect, dict):
                observed = dict(expect, array=expect["array"])  # same shape, one element off
            elif status == "error":
                observed = {"error": "unexpected", "type": "RuntimeError", "message": "synthetic failure " * 5}
            elif status in ("n/a", "skipped"):
                observed = None
            rows.append({
                "case": case_id, "check": check_id, "kind": kind, "backend": backend, "framework": framework,
                "mode": mode, "version": {"reference": "0.1.0", "torch": "2.13.0", "tensorflow": "2.21.0",
                                          "jax": "0.10.2"}[framework],
                "status": status, "observed": observed, "expected": expect, "reference": expect,
                "compared_with": "divergence" if status == "divergence" else "expect",
                "max_abs_err": 0.25 if status == "fail" else 0.0, "max_rel_err": 0.1 if status == "fail" else 0.0,
                "where": [0] * len(shape) if status == "fail" else None,
                "message": f"{status}: synthetic", "claim": None, "claim_holds": None,
                "divergence": {"reason": "synthetic reason", "evidence": "https://example.org/issue",
                               "expect": expect} if status in ("divergence", "fixed") else None,
                "duration_s": round(rng.uniform(0.001, 0.2), 4),
                "repro": "import torch\nprint(torch.ones(3))\n" if status in ("fail", "divergence", "error") else None,
            })
    return {"schema_version": 1,
            "run": {"started": "2026-11-25T20:30:00+00:00", "finished": "2026-11-25T20:41:00+00:00",
                    "duration_s": 660.0, "complete": True, "command": "bench_report.py", "paths": ["cases/"]},
            "environment": {"python": sys.version.split()[0], "platform": sys.platform, "machine": "x86_64",
                            "cpu": "synthetic", "cores": os.cpu_count(),
                            "frameworks": {"reference": "0.1.0", "torch": "2.13.0", "tensorflow": "2.21.0",
                                           "jax": "0.10.2"}},
            "cases": cases, "rows": rows}


def open_in_browser(path: str) -> dict:
    from playwright.sync_api import sync_playwright
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto("file://" + os.path.abspath(path), wait_until="load")
        loaded = time.perf_counter() - t0
        timing = page.evaluate("""() => {
          const t = performance.timing, out = {dcl: t.domContentLoadedEventEnd - t.navigationStart};
          const box = document.querySelector("#filters input[name=status][value='pass']");
          let t0 = performance.now();
          box.checked = false; box.dispatchEvent(new Event("change", {bubbles: true}));
          document.body.offsetHeight;                      // include style and layout
          out.filter = performance.now() - t0;
          t0 = performance.now();
          document.getElementById("expand-all").click();
          document.body.offsetHeight;
          out.expand = performance.now() - t0;
          return out;
        }""")
        browser.close()
    return {"load_s": loaded, "dcl_s": timing["dcl"] / 1000, "filter_s": timing["filter"] / 1000,
            "expand_all_s": timing["expand"] / 1000}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="verdicts to synthesise (default 2000)")
    parser.add_argument("--out", help="where to write the HTML (default: a temporary file)")
    parser.add_argument("--repeat", type=int, default=3, help="renders to time; the best is reported")
    parser.add_argument("--browser", action="store_true", help="also time opening it in /usr/bin/chromium")
    args = parser.parse_args(argv)

    doc = synthesise(args.rows)
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="bench_report_"), "report.html")
    n_plots = sum(1 for c in doc["cases"].values() for ch in c["checks"] if ch["kind"] == "optimize")
    times = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        write_html([doc], out)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    render_html([doc], with_plots=False)
    no_plots = time.perf_counter() - t0
    junit = out[:-5] + ".xml" if out.endswith(".html") else out + ".xml"
    t0 = time.perf_counter()
    write_junit([doc], junit)
    junit_s = time.perf_counter() - t0
    size = os.path.getsize(out)
    print(f"rows: {len(doc['rows'])}  cases: {len(doc['cases'])}  optimize checks (plotted): {n_plots}")
    print(f"html: {min(times):.2f} s best of {len(times)} (first {times[0]:.2f} s; "
          f"without plots {no_plots:.2f} s), {size / 1e6:.2f} MB -> {out}")
    print(f"junit: {junit_s:.2f} s, {os.path.getsize(junit) / 1e6:.2f} MB -> {junit}")
    if args.browser:
        b = open_in_browser(out)
        print(f"chromium: load {b['load_s']:.2f} s (DOMContentLoaded {b['dcl_s']:.2f} s), "
              f"filter {b['filter_s'] * 1000:.0f} ms, "
              f"expand all {b['expand_all_s'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
