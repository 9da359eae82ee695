"""conformance explore: a planted divergence is found and shrunk to its one op, shrinking
keeps the partition, written cases reproduce under the runner, no false disagreement at
generic points of smooth ops."""

from __future__ import annotations

import pytest

from harness.dialects import dialect
from harness.dialects.reference import OPS as REFERENCE_OPS
from harness.dialects.reference import ReferenceDialect
from harness.explore import Explorer, consensus
from harness.explore.evaluate import InProcessEvaluator
from harness.explore.generate import (
    SMOOTH,
    SPECIALS,
    CheckSpec,
    Generator,
    InputSpec,
    Program,
    Statement,
)
from harness.explore.shrink import infer_shapes, rebuild


class PlantedDialect(ReferenceDialect):
    """The reference engine with one gradient rule changed: relu's derivative at 0 is 1
    (the engine's, like every framework's, is 0). The forward value is the same, and so is
    the second derivative (relu's, 0: the added where is 0 away from x = 0)."""

    OPS = {**REFERENCE_OPS, "relu": "re.relu({0}) + re.where({0} == 0, {0}, 0.0)"}


def planted_columns():
    return {"reference": (dialect("reference"), "eager"), "planted": (PlantedDialect(), "eager")}


def test_planted_divergence_is_found_and_shrunk_to_its_op(tmp_path):
    gen = Generator(3, ops=["relu", "add", "mul", "sin", "exp", "sum", "square"],
                    frameworks=["reference"])
    ex = Explorer(InProcessEvaluator(planted_columns()), gen, tmp_path, seed=3, batch=16,
                  oracle=False)
    stats = ex.run(budget_s=60, max_programs=240)
    assert stats.findings, f"not found in {stats.programs} programs"
    # every finding carries the planted rule: it is the only difference between the columns
    assert all("relu" in f.sig["ops"] for f in stats.findings), [f.sig for f in stats.findings]
    first = [f for f in stats.findings if f.sig["kind"] in ("grad", "jvp", "jacobian")
             and f.sig["order"] == 1]
    assert first, [f.sig for f in stats.findings]
    f = first[0]
    assert f.sig["ops"] == ["relu"] and len(f.program.statements) == 1, f.program.text()
    assert "zero" in f.program.special
    assert consensus.spell(f.classes) in ("reference | planted", "planted | reference")
    # shrinking kept the partition: the shrunk program, run again, splits the same way
    got = ex.run_programs([f.program])[0][0]
    obs, tol = got
    assert consensus.key(consensus.partition(obs, tol)) == consensus.key(f.classes)
    assert (tmp_path / f"{f.sig['id']}.yaml").exists()
    assert (tmp_path / "atlas.json").exists()


def test_same_seed_same_programs():
    """Hypothesis draws the programs: the same seed gives the same list (two blocks, so two
    hypothesis runs each), another seed another list."""
    a = Generator(7, frameworks=["reference"], block=60)
    b = Generator(7, frameworks=["reference"], block=60)
    # repr: NaN inputs are not equal to themselves
    first = [repr(p) for p in a.programs(0, 150)]
    assert first == [repr(p) for p in b.programs(0, 150)]
    assert len(set(first)) == 150  # distinct programs within a block and across blocks
    # asked for out of order (a later block first), still the same programs
    c = Generator(7, frameworks=["reference"], block=60)
    assert [repr(c.program(i)) for i in (140, 3, 75)] == [first[i] for i in (140, 3, 75)]
    other = [repr(p) for p in Generator(8, frameworks=["reference"], block=60).programs(0, 150)]
    assert sum(x != y for x, y in zip(first, other)) > 140


DETERMINISM = """
import hashlib, sys
if sys.argv[1] == "heavy":  # other local modules imported first: hypothesis's constants pool
    import harness.cli, harness.runner, harness.report, reference_engine  # noqa
from harness.explore.generate import Generator
g = Generator(4, frameworks=["reference"], block=100)
print(hashlib.sha1(repr(g.programs(0, 200)).encode()).hexdigest())
"""


def test_same_seed_same_programs_in_other_processes():
    """Not only within one process: another hash seed and another set of imported modules
    (hypothesis mixes literals of the imported local modules into some draws) give the same
    programs."""
    import os
    import subprocess
    import sys
    out = []
    for hashseed, mode in (("1", "light"), ("2", "heavy")):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        got = subprocess.run([sys.executable, "-c", DETERMINISM, mode], env=env, text=True,
                             capture_output=True, timeout=300)
        assert got.returncode == 0, got.stderr
        out.append(got.stdout.strip())
    assert out[0] == out[1]


def test_the_tables_are_drawn():
    """Over one seed's first 600 programs every kind of draw occurs: each special value, both
    dtypes, the three shapes, 1 to 4 statements, value/grad 1-3/jvp/jacobian checks, unused
    and integer inputs, clip bounds."""
    gen = Generator(2, frameworks=["reference", "torch", "tensorflow", "jax"])
    programs = gen.programs(0, 600)
    specials = {i.special for p in programs for i in p.inputs}
    assert set(SPECIALS) | {"generic"} <= specials
    assert {i.dtype for p in programs for i in p.inputs} == {"float32", "float64", "int32"}
    assert {i.shape for p in programs for i in p.inputs if i.name == "x"} == {(), (3,), (2, 3)}
    assert {len(p.statements) for p in programs} == {1, 2, 3, 4}
    assert {(c.kind, c.order) for p in programs for c in p.checks} == {
        ("value", 1), ("grad", 1), ("grad", 2), ("grad", 3), ("jvp", 1), ("jacobian", 1)}
    assert any("unused" in p.special for p in programs)
    assert any(s.op == "clip" and dict(s.attrs).get("min") == 0.0 for p in programs
               for s in p.statements)
    # no op is hypothesis's favourite: the most drawn is under 4x the mean
    from collections import Counter
    counts = Counter(s.op for p in programs for s in p.statements)
    assert max(counts.values()) < 4 * sum(counts.values()) / len(gen.ops), counts.most_common(3)


def test_generated_programs_validate(tmp_path):
    from harness.explore.cases import case_dict, load_many
    gen = Generator(11, frameworks=["reference", "torch", "tensorflow", "jax"])
    programs = [gen.program(i) for i in range(200)]
    _, valid = load_many([(f"p{i}", case_dict(p, f"p{i}")) for i, p in enumerate(programs)],
                         tmp_path, "all")
    assert len(valid) == len(programs)
    for p in programs:
        assert 1 <= len(p.statements) <= 4
        assert infer_shapes(p.inputs, p.statements) is not None


def _unused_input_program():
    x = InputSpec("x", 0.5, (), "float32", "generic")
    u = InputSpec("u", 1.5, (), "float32", "generic")
    p = Program((x, u), (Statement("v1", "sin", ("x",)),), (CheckSpec("grad", 1, ("x", "u")),),
                "v1")
    return rebuild(p)


def test_written_case_reproduces_under_the_runner(tmp_path):
    """reference gives None for an input the output does not use, PyTorch raises: the
    written case, run by the runner's workers, gives pass for one and divergence for the
    other."""
    pytest.importorskip("torch")
    from harness.cases import load_file
    from harness.runner import RunOptions, run_cases
    columns = {"reference": (dialect("reference"), "eager"), "torch": (dialect("torch"), "eager")}
    ex = Explorer(InProcessEvaluator(columns), Generator(0, frameworks=["reference"]), tmp_path,
                  seed=0, oracle=True)
    p = _unused_input_program()
    obs, tol = ex.run_programs([p])[0][0]
    classes = consensus.partition(obs, tol)
    assert len(classes) == 2
    f = ex.record(p, 0, classes)
    assert f is not None and f.sig["ops"] == ["unused_input"]
    got = load_file(f.path)
    assert not got.errors, got.errors
    rows = run_cases(got.cases, RunOptions(frameworks=["reference", "torch"], jobs=2))
    statuses = {r["backend"]: r["status"] for r in rows}
    assert statuses == {"reference": "pass", "torch": "divergence"}, rows


def test_consensus_classes():
    import numpy as np

    from harness.scripts import Observation
    from harness.values import ErrorValue
    tol = (1e-4, 1e-5)
    obs = {"a": Observation("ok", np.float32(0.0)), "b": Observation("ok", None),
           "c": Observation("error", ErrorValue("raised")), "d": Observation("ok", np.float32(1e-7)),
           "e": Observation("ok", np.float32(np.nan)), "f": Observation("ok", np.float64(np.nan)),
           "g": Observation("n/a")}
    classes = consensus.partition(obs, tol)
    assert classes == [["a", "d"], ["b"], ["c"], ["e", "f"]]


def _false_disagreements(n: int, frameworks: list[str], seed: int = 5):
    """``n`` programs of smooth ops at generic points (float32 and float64, no unused or
    integer inputs) on the columns of ``frameworks`` (eager, in this process): the numeric
    disagreements neither the float64 reference nor central finite differences explain.
    Tolerances: float32 rtol 1e-4 atol 1e-5, float64 rtol 1e-9 atol 1e-11
    (``harness.explore.cases.TOLERANCES``); finite differences: at least rtol 1e-5 atol
    1e-6. What remains are real conventions, not rounding: a higher derivative that vanishes
    (x * y twice in x) is None in one column, zero in another and an error in a third; those
    are findings, never counted as false."""
    from dataclasses import replace

    import numpy as np

    from harness.explore import fd as finite
    from harness.explore.cases import TOLERANCES
    from harness.explore.consensus import agree
    from harness.values import ErrorValue
    columns = {f: (dialect(f), "eager") for f in frameworks}
    gen = Generator(seed, ops=SMOOTH, generic_only=True, frameworks=frameworks)
    ex = Explorer(InProcessEvaluator(columns), gen, None, seed=seed, batch=50, oracle=True,
                  shrink_rounds=0)
    numeric = []

    def is_number(v):
        if isinstance(v, (list, tuple)):
            return all(is_number(x) for x in v)
        return v is not None and not isinstance(v, ErrorValue) and np.asarray(v).dtype.kind == "f"

    original = ex.record

    def record(program, j, classes, elapsed=lambda: 0.0):
        obs = ex._last_obs
        before = ex.stats.ill_conditioned
        found = original(program, j, classes, elapsed)
        if ex.stats.ill_conditioned == before and all(is_number(obs[c[0]].value)
                                                      for c in classes):
            # a numeric disagreement is false unless an oracle sides with one class: then
            # one column's float32 arithmetic is wrong (e.g. a tanh one ulp off 1.0,
            # amplified by a third derivative), a true finding
            one = replace(program, checks=(program.checks[j],))
            oracle = Explorer.oracle_of(ex, one)
            sides = [agree(obs[c[0]], oracle, TOLERANCES["float32"]) for c in classes] \
                if oracle is not None and oracle.status == "ok" else []
            fd = ex.fd_of(one, oracle)
            if fd is not None:
                by_fd = [agree(obs[c[0]], finite.observation(fd),
                               finite.tolerance(TOLERANCES["float32"])) for c in classes]
                sides = by_fd if by_fd.count(True) == 1 else sides
            if sides.count(True) != 1:
                numeric.append((program.text(), program.inputs, classes))
        return found

    ex.record = record
    stats = ex.run(budget_s=3600, max_programs=n)
    assert stats.programs >= n
    return numeric


def test_no_false_disagreement_at_generic_points_of_smooth_ops():
    """The always-on variant: 400 programs, reference against PyTorch."""
    pytest.importorskip("torch")
    numeric = _false_disagreements(400, ["reference", "torch"])
    assert not numeric, numeric[:5]


@pytest.mark.slow
def test_no_false_disagreement_over_2000_programs_of_smooth_ops():
    """2000 programs, reference against PyTorch and TensorFlow (about 100 s on 2 cores)."""
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    numeric = _false_disagreements(2000, ["reference", "torch", "tensorflow"])
    assert not numeric, numeric[:5]


# ---- central finite differences ---------------------------------------------------------


def _float64(program):
    from dataclasses import replace
    return replace(program, inputs=tuple(replace(i, dtype="float64") if i.dtype == "float32"
                                         else i for i in program.inputs))


def _reference(program, tmp_path):
    from harness.explore.cases import case_dict, load_many
    from harness.scripts import observe_check
    _, valid = load_many([("o", case_dict(program, "o"))], tmp_path, "o")
    case = valid["o"]
    return observe_check(case, case.checks[0], case.check_ids[0], dialect("reference"), "eager")


def test_finite_differences_agree_with_the_reference_at_smooth_points(tmp_path):
    """Smooth ops at generic points: central differences (float64) apply to nearly every
    first-derivative check (grad 1, jvp, jacobian) and agree with the reference engine's
    autodiff within FD's tolerance (rtol 1e-5, atol 1e-6)."""
    from dataclasses import replace

    from harness.explore import fd as finite
    from harness.explore.cases import TOLERANCES
    gen = Generator(5, ops=SMOOTH, generic_only=True, frameworks=["reference"], block=100)
    applied, first_order = 0, 0
    for p in gen.programs(0, 200):
        check = p.checks[1]
        if check.order != 1:
            continue
        first_order += 1
        one = replace(p, checks=(check,))
        got = finite.finite_differences(one, check, tmp_path)
        if got is None:
            continue
        applied += 1
        ref = _reference(_float64(one), tmp_path)
        assert consensus.agree(ref, finite.observation(got),
                               finite.tolerance(TOLERANCES["float64"])), \
            (p.text(), check, ref.value, got.value)
    assert first_order > 100 and applied >= 0.9 * first_order, (applied, first_order)


@pytest.mark.parametrize("text,value,special,applies", [
    ("v1 = sin(x)", 0.7, "generic", True),
    ("v1 = relu(x)", 0.0, "zero", False),  # a special point: no opinion
    ("v1 = clip(x, min=0.0, max=1.0)", 1.0, "one", False),  # the bound: one-sided differ
    ("v1 = floor(x)", 1.0, "one", False),  # a jump
    ("v1 = abs(x)", -2.5, "negative", True),  # -2.5 is an ordinary point of abs
    ("v1 = log(x)", -2.5, "negative", False),  # NaN there
])
def test_finite_differences_apply_only_where_smooth(tmp_path, text, value, special, applies):
    from harness.explore import fd as finite
    from harness.explore.shrink import rebuild
    op = text.split("= ")[1].split("(")[0]
    attrs = tuple((k, float(v)) for k, v in (a.split("=") for a in
                                             text.rstrip(")").split(", ")[1:]))
    x = InputSpec("x", value, (), "float32", special)
    p = rebuild(Program((x,), (Statement("v1", op, ("x",), attrs),),
                        (CheckSpec("grad", 1, ("x",)),), "v1"))
    got = finite.finite_differences(p, p.checks[0], tmp_path)
    assert (got is not None) == applies, (text, got)
    if applies:
        assert consensus.agree(_reference(_float64(p), tmp_path), finite.observation(got),
                               finite.TOLERANCE)


class WrongSquareDialect(ReferenceDialect):
    """The reference engine with square's gradient wrong everywhere (x, not 2x): the value
    is the same."""

    OPS = {**REFERENCE_OPS, "square": "{0} * re.detach({0})"}


def test_a_column_wrong_by_finite_differences_is_its_own_signature(tmp_path):
    """At a smooth point the columns part (reference: 2x, the planted column: x): central
    differences side with the reference, so the planted column, disagreeing with both them
    and the float64 reference, is marked wrong (a signature of its own), and the written
    case expects the class finite differences agree with."""
    import yaml
    columns = {"reference": (dialect("reference"), "eager"),
               "planted": (WrongSquareDialect(), "eager")}
    ex = Explorer(InProcessEvaluator(columns), Generator(0, frameworks=["reference"]), tmp_path,
                  seed=0, oracle=True)
    x = InputSpec("x", 0.7, (), "float32", "generic")
    p = rebuild(Program((x,), (Statement("v1", "square", ("x",)),),
                        (CheckSpec("grad", 1, ("x",)),), "v1"))
    obs, tol = ex.run_programs([p])[0][0]
    classes = consensus.partition(obs, tol)
    assert len(classes) == 2
    f = ex.record(p, 0, classes, observations=obs)
    assert f is not None and f.sig["wrong"] == ["planted"] and ".wrong." in f.sig["id"]
    check = yaml.safe_load(f.path.read_text())["cases"][0]["checks"][0]
    assert "finite differences" in check["note"]
    x = f.program.input("x").value  # as shrunk (0.7 becomes 1.0: the same partition)
    assert check["expect"] == pytest.approx(2 * x, rel=1e-6)
    assert list(check["diverges"]) == ["planted"]


# ---- one phenomenon, one signature ------------------------------------------------------


def _obs(**values):
    import numpy as np

    from harness.scripts import Observation
    from harness.values import ErrorValue
    return {k: Observation("error", ErrorValue(v[6:])) if isinstance(v, str) else
            Observation("ok", None if v is None else np.float64(v)) for k, v in values.items()}


def _program(op, special="generic", dtype="float32", kind="grad", order=1, wrt=("x",),
             unused=False):
    x = InputSpec("x", 0.5, (), dtype, special)
    inputs = (x,) + ((InputSpec("u", 1.5, (), dtype, "generic"),) if unused else ())
    return rebuild(Program(inputs, (Statement("v1", op, ("x",)),),
                           (CheckSpec(kind, order, wrt),), "v1"))


def test_a_dtype_phenomenon_is_one_signature_whatever_the_op_check_and_point():
    from harness.explore.write import signature
    classes = [["reference", "torch"], ["jax", "jax[jit]"]]
    sigs = {signature(_program(op, special, "float64", kind, order), classes,
                      _obs(reference=0.1, torch=0.1, jax=0.1000001, **{"jax[jit]": 0.1000001}),
                      precision=True)["id"]
            for op, special, kind, order in (("sin", "generic", "grad", 1),
                                             ("exp", "one", "value", 1),
                                             ("tanh", "negative", "grad", 3))}
    assert len(sigs) == 1, sigs
    other = signature(_program("sin", dtype="float64"), [["reference", "torch", "jax"],
                                                          ["jax[jit]"]],
                      precision=True)["id"]
    assert other not in sigs  # other columns: another phenomenon


def test_an_unused_input_is_one_signature_per_check_and_partition():
    from harness.explore.write import signature
    classes = [["reference"], ["jax"], ["torch"]]
    obs = _obs(reference=None, jax=0.0, torch="error:unused_input")
    ids = {signature(_program(op, special, wrt=("u",), unused=True), classes, obs)["id"]
           for op, special in (("sin", "generic"), ("exp", "one"), ("relu", "zero"))}
    assert len(ids) == 1 and next(iter(ids)).startswith("unused_input.grad1."), ids
    # another check kind, or other answers (None where an error was), another phenomenon
    assert signature(_program("sin", kind="jacobian", wrt=("u",), unused=True), classes,
                     obs)["id"] not in ids
    assert signature(_program("sin", wrt=("u",), unused=True), classes,
                     _obs(reference=None, jax=0.0, torch=None))["id"] not in ids
    # asked beside a used input, the op stays in the signature
    import numpy as np

    from harness.scripts import Observation
    both = {"reference": Observation("ok", [np.float32(0.87), None]),
            "jax": Observation("ok", [np.float32(0.87), np.float32(0.0)]),
            "torch": obs["torch"]}
    mixed = signature(_program("sin", wrt=("x", "u"), unused=True), classes, both)
    assert mixed["ops"] == ["sin", "unused_input"]


def test_an_op_phenomenon_keeps_its_op_and_point():
    from harness.explore.write import signature
    classes = [["reference", "torch"], ["tensorflow"]]
    obs = _obs(reference=1.0, torch=1.0, tensorflow=0.5)
    a = signature(_program("relu", "zero"), classes, obs)
    b = signature(_program("elu", "zero"), classes, obs)
    c = signature(_program("relu", "negzero"), classes, obs)
    d = signature(_program("relu", "zero"), classes, _obs(reference=1.0, torch=1.0,
                                                          tensorflow=float("nan")))
    assert len({a["id"], b["id"], c["id"], d["id"]}) == 4
    assert a["ops"] == ["relu"] and a["id"].startswith("relu.grad1.zero.")


def test_a_zero_derivative_spelled_differently_is_one_signature_per_check_kind():
    """A derivative zero by structure (floor, sign; the third derivative of a square) that
    the columns spell as zero, None or an error: the op, point and order do not decide it."""
    from harness.explore.write import signature
    classes = [["reference", "tensorflow"], ["jax"], ["torch"]]
    obs = _obs(reference=None, tensorflow=None, jax=0.0, torch="error:not_differentiable")
    ids = {signature(_program(op, special, order=order), classes, obs)["id"]
           for op, special, order in (("floor", "one", 1), ("sign", "negative", 1),
                                      ("square", "generic", 3))}
    assert len(ids) == 1 and next(iter(ids)).startswith("zero_derivative.grad."), ids
    assert signature(_program("floor", kind="jvp"), classes, obs)["id"] not in ids
    # a number among the answers: an op phenomenon
    assert signature(_program("floor"), classes, _obs(reference=None, tensorflow=None,
                                                      jax=1.0, torch="error:raised"))[
        "ops"] == ["floor"]


def test_an_integer_operand_is_one_signature_per_check_and_partition():
    from harness.explore.write import signature
    classes = [["reference", "torch"], ["tensorflow"]]
    obs = _obs(reference=1.0, torch=1.0, tensorflow="error:invalid_argument")
    ids = set()
    for op in ("sub", "minimum"):
        x = InputSpec("x", 0.5, (), "float32", "generic")
        y = InputSpec("y", 1, (), "int32", "generic")
        p = rebuild(Program((x, y), (Statement("v1", op, ("x", "y")),),
                            (CheckSpec("value", 1, ()),), "v1"))
        ids.add(signature(p, classes, obs)["id"])
    assert len(ids) == 1 and next(iter(ids)).startswith("integer_operand.value."), ids


def test_a_first_column_apart_from_its_sibling_is_named_with_its_mode():
    """``diverges: {tensorflow: ...}`` covers both TensorFlow columns: where only the eager
    one diverges, the written key is ``tensorflow[eager]``, which names that column alone."""
    from harness.cases import Divergence, ValueCheck
    from harness.explore import write
    assert write.column_key("torch", ["reference"]) == "torch"
    assert write.column_key("tensorflow", ["reference"]) == "tensorflow"  # both diverge
    assert write.column_key("jax[jit]", ["reference", "jax"]) == "jax[jit]"
    key = write.column_key("tensorflow", ["reference", "tensorflow[function]"])
    assert key == "tensorflow[eager]"
    check = ValueCheck(value="x", diverges={key: Divergence(reason="r", evidence="e")})
    assert check.divergences("tensorflow", "tensorflow")
    assert not check.divergences("tensorflow[function]", "tensorflow")
