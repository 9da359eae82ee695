"""``conformance explore``: generate programs, run them on every column, find where the
frameworks part, shrink each divergence, and write it down as a case (and in the atlas).

The loop: a batch of generated programs (one case each, a value check and one derivative
check) is written to one file in a work dir and run by each framework's long-lived worker;
every (program, check) whose columns split into more than one agreement class is shrunk
(candidates evaluated in batches), given a signature, and written at once (an interrupted
run keeps what it found).
"""

from __future__ import annotations

import datetime
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from harness.explore import consensus
from harness.explore import fd as finite
from harness.explore.cases import TOLERANCES, case_dict, load_many, tolerance_of
from harness.explore.generate import Generator, Program
from harness.explore.shrink import rebuild, shrink
from harness.explore.write import (
    atlas_entry,
    convention,
    signature,
    write_atlas,
    write_case,
    wrt_convention,
)


@dataclass
class Finding:
    sig: dict
    program: Program
    classes: list
    known: bool
    path: Path | None = None
    entry: dict = field(default_factory=dict)
    found_at_s: float = 0.0


@dataclass
class Stats:
    programs: int = 0
    checks: int = 0
    divergences: int = 0  # (program, check) pairs that diverged, before deduplication
    new: int = 0
    known: int = 0
    shrink_candidates: int = 0
    ill_conditioned: int = 0  # numeric disagreements the float64 oracle sides with none of
    eval_s: float = 0.0
    findings: list = field(default_factory=list)


class Explorer:
    def __init__(self, evaluator, generator: Generator, out: Path | None, seed: int = 0,
                 known: list[dict] | None = None, oracle: bool = True, shrink_rounds: int = 12,
                 batch: int = 12, workdir: Path | None = None):
        self.evaluator = evaluator
        self.generator = generator
        self.out = Path(out) if out else None
        self.seed = seed
        self.known = known or []
        self.oracle = oracle
        self.shrink_rounds = shrink_rounds
        self.batch = batch
        self._tmp = tempfile.TemporaryDirectory(prefix="explore-") if workdir is None else None
        self.workdir = Path(workdir or self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.files = 0
        self._last_obs: dict = {}
        self.deadline = self.grace = None
        self.stats = Stats()
        self.seen: dict[str, Finding] = {}
        self.quick: set = set()  # (kind, order, special, partition, ops) already shrunk
        self.aliases: set = set()  # signatures (before shrinking) of conventions found
        self.entries: list[dict] = []
        self.found = {"seed": seed, "versions": dict(evaluator.versions),
                      "date": datetime.date.today().isoformat()}
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)

    # ---- evaluation -------------------------------------------------------------------

    def run_programs(self, programs: list[Program]) -> dict:
        """``{i: {check index: (observations by column, tolerance)}}`` for each program that
        validates (a candidate the case language refuses is left out)."""
        self.files += 1
        items = [(f"p{self.files}-{k}", case_dict(p, f"p{self.files}-{k}"))
                 for k, p in enumerate(programs)]
        path, valid = load_many(items, self.workdir, f"batch{self.files:05d}")
        start = time.perf_counter()
        observed = self.evaluator.evaluate(path, valid) if valid else {}
        self.stats.eval_s += time.perf_counter() - start
        out = {}
        for k, (cid, _) in enumerate(items):
            if cid not in observed:
                continue
            case = valid[cid]
            out[k] = {j: ({col: observed[cid].get(col, {}).get(check_id)
                           for col in self.evaluator.columns}, tolerance_of(programs[k]))
                      for j, check_id in enumerate(case.check_ids)}
        return out

    def judge(self, programs: list[Program]) -> list:
        got = self.run_programs(programs)
        keys = []
        for k in range(len(programs)):
            if k not in got or consensus.crashed(got[k][0][0]):
                keys.append(None)
                continue
            obs, tol = got[k][0]
            keys.append(consensus.key(consensus.partition(obs, tol)))
        return keys

    def oracle_of(self, program: Program):
        """The reference engine in float64, in this process (None where unavailable)."""
        if not self.oracle:
            return None
        try:
            from harness.dialects import dialect
            from harness.explore.generate import InputSpec
            from harness.scripts import observe_check
            inputs = tuple(InputSpec(i.name, i.value, i.shape, "float64", i.special)
                           if i.dtype == "float32" else i for i in program.inputs)
            p = replace(program, inputs=inputs)
            _, valid = load_many([("oracle", case_dict(p, "oracle"))], self.workdir,
                                 f"oracle{self.files:05d}")
            case = valid["oracle"]
            with np.errstate(all="ignore"):  # special points on purpose: 0/0, log(-1), ...
                return observe_check(case, case.checks[0], case.check_ids[0],
                                     dialect("reference"), "eager")
        except Exception:
            return None

    # ---- the loop ---------------------------------------------------------------------

    def step(self, start_index: int, elapsed=lambda: 0.0) -> list[Finding]:
        programs = [self.generator.program(start_index + k) for k in range(self.batch)]
        got = self.run_programs(programs)
        new = []
        for k, checks in got.items():
            self.stats.programs += 1
            for j, (obs, tol) in checks.items():
                self.stats.checks += 1
                if consensus.crashed(obs):
                    continue
                classes = consensus.partition(obs, tol)
                if len(classes) < 2:
                    continue
                self.stats.divergences += 1
                self._last_obs = obs
                finding = self.record(programs[k], j, classes, elapsed)
                if finding:
                    new.append(finding)
        return new

    def fd_of(self, program: Program, oracle):
        """Central finite differences for the program's check, where they apply and the
        float64 reference's answer there is finite (else ``None``)."""
        if oracle is None or oracle.status != "ok" or not consensus.finite(oracle.value):
            return None
        return finite.finite_differences(program, program.checks[0], self.workdir)

    def record(self, program: Program, j: int, classes, elapsed=lambda: 0.0,
               observations=None):
        obs = self._last_obs if observations is None else observations
        one = rebuild(replace(program, checks=(program.checks[j],)))
        if one is None:
            return None
        c = one.checks[0]
        wanted = consensus.key(classes)
        if self.oracle and obs and all(consensus.numeric(obs[cls[0]].value) for cls in classes):
            # numbers that part where neither the float64 oracle nor (where they apply)
            # central finite differences agree with any of them: the function is
            # ill-conditioned at this point in float32 (a tanh one ulp off 1.0, then a third
            # derivative), rounding rather than a convention: not reported
            oracle = self.oracle_of(one)
            if oracle is not None and oracle.status == "ok" and not any(
                    consensus.agree(obs[cls[0]], oracle, TOLERANCES["float32"], dtypes=False)
                    for cls in classes):
                fd = self.fd_of(one, oracle)
                if fd is None or not any(consensus.agree(obs[cls[0]], finite.observation(fd),
                                                         finite.tolerance(TOLERANCES["float32"]),
                                                         dtypes=False)
                                         for cls in classes):
                    self.stats.ill_conditioned += 1
                    return None
        # a phenomenon no op decides (write.convention), seen already: not shrunk again
        early = self._convention_id(one, classes, obs)
        if early is not None and (early in self.seen or early in self.aliases):
            return None
        # already explained: a finding of the same kind, order, point and partition whose
        # (shrunk) ops this program has too
        # (or, for an unused or integer input beside others, the convention alone)
        ops = set(one.ops)
        wc = wrt_convention(one)
        for f in self.stats.findings:
            fc = f.program.checks[0]
            if (fc.kind, fc.order) != (c.kind, c.order) or consensus.key(f.classes) != wanted:
                continue
            if (f.program.special == one.special and set(f.sig["ops"]) <= ops) or \
                    (wc and f.sig["ops"] == [wc[0]]):
                return None
        quick = (c.kind, c.order, one.special, wanted, tuple(sorted(ops)))
        if quick in self.quick:
            return None
        if self.deadline is not None and time.monotonic() > self.deadline:
            return None  # no shrinking starts past the budget: nothing is written unshrunk
        self.quick.add(quick)
        small, tried = shrink(one, wanted, self.judge, self.shrink_rounds,
                              deadline=self.grace)
        self.stats.shrink_candidates += tried
        if self.grace is not None and time.monotonic() > self.grace:
            return None  # cut short: not written half shrunk
        got = self.run_programs([small])
        if 0 not in got:
            return None
        obs, tol = got[0][0]
        classes = consensus.partition(obs, tol)
        if consensus.key(classes) != wanted:  # not reproducible: flaky, never written
            return None
        oracle = self.oracle_of(small)
        fd = self.fd_of(small, oracle)
        wrong = []
        if fd is not None:
            fd_obs, fd_tol = finite.observation(fd), finite.tolerance(tol)
            right = [cls for cls in classes if consensus.agree(obs[cls[0]], fd_obs, fd_tol, dtypes=False)]
            if right:  # finite differences side with a class: another class's number is
                # wrong if the float64 reference does not side with it either (None or an
                # error is a way of answering, not a wrong number)
                wrong = sorted(col for cls in classes if cls not in right
                               and consensus.numeric(obs[cls[0]].value)
                               and not consensus.agree(obs[cls[0]], oracle, tol, dtypes=False) for col in cls)
            else:
                fd = None  # they side with none: no opinion
        sig = signature(small, classes, obs, precision=self._precision(small, obs),
                        wrong=wrong)
        if early is not None:
            self.aliases.add(early)
        if sig["id"] in self.seen:
            return None
        known = is_known(sig, classes, self.known)
        finding = Finding(sig, small, classes, known, found_at_s=elapsed())
        self.seen[sig["id"]] = finding
        if known:
            self.stats.known += 1
        else:
            self.stats.new += 1
        self.stats.findings.append(finding)
        if self.out:
            finding.path = write_case(self.out, sig, small, classes, obs, oracle, tol,
                                      self.found, known, fd)
            finding.entry = atlas_entry(sig, small, classes, obs, finding.path, known, oracle,
                                        fd)
            self.entries.append(finding.entry)
            write_atlas(self.out, self.entries, self.meta())
        return finding

    @staticmethod
    def _precision(program: Program, obs) -> bool:
        """Columns that part only by precision on float64 inputs: they agree at float32's
        tolerance."""
        return bool(obs) and any(i.dtype == "float64" for i in program.inputs) and len(
            consensus.partition(obs, TOLERANCES["float32"])) == 1

    def _convention_id(self, program: Program, classes, obs):
        """The signature of a phenomenon no op decides (``write.convention``), else None."""
        if convention(program, classes, obs, self._precision(program, obs)) is None:
            return None
        return signature(program, classes, obs, precision=self._precision(program, obs))["id"]

    def meta(self) -> dict:
        return {**self.found, "columns": self.evaluator.columns,
                "skipped": self.evaluator.skipped,
                "programs": self.stats.programs, "checks": self.stats.checks}

    def run(self, budget_s: float, progress=None, max_programs: int | None = None) -> Stats:
        start = time.monotonic()
        self.deadline = start + budget_s
        # a shrink begun within the budget may finish within a tenth more of it
        self.grace = self.deadline + 0.1 * budget_s
        index = 0

        def elapsed():
            return time.monotonic() - start

        while elapsed() < budget_s and (max_programs is None or index < max_programs):
            self.step(index, elapsed)
            index += self.batch
            if progress:
                progress(self.stats, elapsed())
        if self.out:
            write_atlas(self.out, self.entries, self.meta())
        return self.stats


# ---- what cases/ already declares -------------------------------------------------------


def declared(paths=("cases",)) -> list[dict]:
    """The divergences ``cases/`` declares: ops of the program, check kind and order, and
    the columns declared divergent (frameworks expanded to their columns)."""
    from harness import expressions as ex
    from harness.cases import load_paths
    from harness.dialects import FRAMEWORKS
    try:
        cases = load_paths([p for p in paths if Path(p).exists()]).cases
    except Exception:
        return []
    out = []
    for case in cases:
        ops = set()
        for s in case.program:
            ops |= {c.fn for c in ex.calls_used(s)}
        for check in case.checks:
            if not check.diverges:
                continue
            cols = set()
            for k in check.diverges:
                cols |= set(FRAMEWORKS[k].columns()) if k in FRAMEWORKS else {k}
            out.append({"case": case.id, "ops": ops, "kind": check.kind,
                        "order": getattr(check, "order", 1), "columns": cols})
    return out


def is_known(sig: dict, classes, known: list[dict]) -> bool:
    """A signature is known when cases/ declares a divergence of the same kind and order,
    over a program with at least its ops, for the same set of divergent columns (those
    outside the largest class)."""
    largest = max(classes, key=len)
    minority = {c for cls in classes if cls is not largest for c in cls}
    if sig["ops"] == ["float64_as_float32"]:  # no declared case is about precision alone
        return False
    ops = set(sig["ops"]) - CONVENTIONS
    for k in known:
        if k["kind"] == sig["kind"] and k["order"] == sig["order"] and \
                ops <= k["ops"] and (k["columns"] == minority or k["columns"] == set(largest)):
            return True
    return False


# the names a signature gives, in place of ops, to a phenomenon no op decides
CONVENTIONS = {"unused_input", "integer_input", "integer_operand", "zero_derivative",
               "float64_as_float32"}


def seed_ops(paths) -> list[str]:
    """The ops existing cases' programs use: ``PATHS`` seeds the generator with them."""
    from harness import expressions as ex
    from harness.cases import load_paths
    ops = set()
    for case in load_paths(paths).cases:
        for s in case.program:
            ops |= {c.fn for c in ex.calls_used(s)}
    return sorted(ops)


DEFAULT_FRAMEWORKS = ("reference", "torch", "tensorflow", "jax")


def main(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from harness.dialects import FRAMEWORKS
    from harness.explore.evaluate import WorkerEvaluator

    console = Console(stderr=True, highlight=False)
    # the six columns by default; others (Keras) when asked for
    frameworks = args.frameworks or [f for f in DEFAULT_FRAMEWORKS if f in FRAMEWORKS]
    ops = args.ops.split(",") if args.ops else None
    if args.paths and not ops:
        ops = seed_ops(args.paths) or None
    generator = Generator(args.seed, ops=ops, frameworks=frameworks)
    out = Path(args.out)
    console.print(f"exploring {len(generator.ops)} ops ({', '.join(generator.ops)}) for "
                  f"{args.budget:g} s, seed {args.seed}; cases to {out}/")
    evaluator = WorkerEvaluator(frameworks)
    explorer = Explorer(evaluator, generator, out, seed=args.seed, known=declared(),
                        batch=args.batch)
    # hypothesis caches what it reads of the local sources under ./.hypothesis: keep that
    # in the run's work dir, not in the user's directory
    import os
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(explorer.workdir / ".hypothesis"))
    start = time.monotonic()
    with Progress(TextColumn("[bold]explore"), BarColumn(),
                  TextColumn("{task.fields[programs]} programs, {task.fields[div]} divergences "
                             "({task.fields[new]} new, {task.fields[known]} known)"),
                  TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task("explore", total=args.budget, programs=0, div=0, new=0, known=0)

        def progress(stats, elapsed):
            bar.update(task, completed=min(elapsed, args.budget), programs=stats.programs,
                       div=stats.new + stats.known, new=stats.new, known=stats.known)
        try:
            stats = explorer.run(args.budget, progress)
        except KeyboardInterrupt:
            stats = explorer.stats
            console.print("[yellow]interrupted[/yellow]: what was found is written")
        finally:
            evaluator.close()
    wall = time.monotonic() - start
    console.print(f"{stats.programs} programs ({stats.programs / max(wall, 1e-9):.2f}/s), "
                  f"{stats.divergences} diverging checks, {len(stats.findings)} distinct "
                  f"({stats.new} new, {stats.known} known), {stats.shrink_candidates} shrink "
                  f"candidates")
    for f in stats.findings:
        wrong = f"  (wrong by finite differences: {', '.join(f.sig['wrong'])})" \
            if f.sig.get("wrong") else ""
        console.print(f"  {'known' if f.known else 'NEW  '} {f.sig['id']}: {f.sig['answers']}"
                      f"{wrong}", markup=False)
    if explorer.entries:
        from harness.explore.atlas import write_atlas_html
        html = write_atlas_html(out / "atlas.json", Path(args.html) if args.html
                                else out / "atlas.html")
        console.print(f"atlas: {html}")
    return 0
