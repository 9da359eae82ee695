"""Shrinking a divergence: fewest statements, fewest ops, smallest shape, simplest special
value, fewest ``wrt`` names and lowest order, while the partition stays the same.

Greedy: every candidate one step simpler is evaluated in one batch; the first (in order of
preference) that keeps the partition is taken; repeat until none does.
"""

from __future__ import annotations

from dataclasses import replace

from harness.explore.generate import (
    BINARY,
    REDUCTIONS,
    SPECIALS,
    UNARY,
    CheckSpec,
    Program,
    Statement,
    broadcast,
    simplify_input,
)


def infer_shapes(inputs, statements) -> tuple | None:
    shapes = {i.name: tuple(i.shape) for i in inputs}
    for s in statements:
        if any(isinstance(a, str) and a not in shapes for a in s.args):
            return None
        arg = [shapes[a] if isinstance(a, str) else () for a in s.args]
        attrs = dict(s.attrs)
        if s.op in UNARY or s.op in ("clip",):
            out = arg[0]
        elif s.op in ("cumsum", "flip"):
            if not arg[0] or attrs.get("axis", 0) >= len(arg[0]):
                return None
            out = arg[0]
        elif s.op in BINARY or s.op == "where":
            out = broadcast(arg[0], arg[1])
            if out is None:
                return None
            if s.op == "where":
                if s.cond not in shapes or broadcast(shapes[s.cond], out) != out:
                    return None
        elif s.op in REDUCTIONS:
            if "axis" in attrs:
                a = attrs["axis"]
                if a >= len(arg[0]):
                    return None
                out = arg[0][:a] + arg[0][a + 1:]
            else:
                out = ()
        elif s.op == "getitem":
            if not arg[0] or attrs["index"] >= arg[0][0]:
                return None
            out = arg[0][1:]
        else:
            return None
        shapes[s.var] = out
    return tuple(shapes.items())


def rebuild(p: Program, inputs=None, statements=None, target=None, checks=None):
    inputs = tuple(inputs if inputs is not None else p.inputs)
    statements = tuple(statements if statements is not None else p.statements)
    target = target or p.target
    shapes = infer_shapes(inputs, statements)
    if shapes is None or not statements or target not in dict(shapes):
        return None
    q = replace(p, inputs=inputs, statements=statements, target=target,
                checks=tuple(checks if checks is not None else p.checks), shapes=shapes)
    # drop dead statements and inputs nobody uses (nor a check names)
    live = q.live()
    statements = tuple(s for s in q.statements if s.var in live)
    named = {n for c in q.checks for n in c.wrt}
    inputs = tuple(i for i in q.inputs if i.name in live or i.name in named)
    return replace(q, statements=statements, inputs=inputs,
                   shapes=infer_shapes(inputs, statements))


def candidates(p: Program) -> list[Program]:
    out = []
    st = list(p.statements)
    # fewer statements: an earlier target, or one statement bypassed
    for j in range(len(st) - 1):
        out.append(rebuild(p, statements=st[:j + 1], target=st[j].var))
    for j, s in enumerate(st):
        for a in s.args:
            if not isinstance(a, str):
                continue
            later = [_rename(t, s.var, a) for t in st[j + 1:]]
            if later:
                out.append(rebuild(p, statements=st[:j] + later))
            elif len(st) > 1 or a in {v for v, _ in p.shapes if v.startswith("v")}:
                out.append(rebuild(p, statements=st[:j], target=a))
    # smaller shapes
    for k, i in enumerate(p.inputs):
        for shape in ((), (i.shape[-1],) if i.shape else None):
            if shape is not None and shape != i.shape and len(shape) < len(i.shape):
                inputs = list(p.inputs)
                inputs[k] = simplify_input(i, shape=shape)
                out.append(rebuild(p, inputs=inputs))
    # simpler special values (earlier in SPECIALS), or a special value made generic-free
    for k, i in enumerate(p.inputs):
        if i.special in SPECIALS:
            for s in SPECIALS[:SPECIALS.index(i.special)]:
                if s == "tie":
                    continue
                inputs = list(p.inputs)
                inputs[k] = simplify_input(i, special=s)
                out.append(rebuild(p, inputs=inputs))
        elif i.special == "generic" and not i.dtype.startswith("int"):
            inputs = list(p.inputs)
            inputs[k] = simplify_input(i, special="one")
            out.append(rebuild(p, inputs=inputs))
    # float32 rather than float64
    if any(i.dtype == "float64" for i in p.inputs):
        out.append(rebuild(p, inputs=[replace(i, dtype="float32") if i.dtype == "float64" else i
                                      for i in p.inputs]))
    # simpler checks: fewer wrt names, lower order
    c = p.checks[0]
    if len(c.wrt) > 1:
        for n in c.wrt:
            out.append(rebuild(p, checks=[CheckSpec(c.kind, c.order, tuple(w for w in c.wrt
                                                                          if w != n))]))
    if c.kind == "grad" and c.order > 1:
        out.append(rebuild(p, checks=[CheckSpec(c.kind, c.order - 1, c.wrt)]))
    seen, unique = set(), []
    for q in out:
        if q is None:
            continue
        k = (q.inputs, q.statements, q.checks, q.target)
        if k not in seen and k != (p.inputs, p.statements, p.checks, p.target):
            seen.add(k)
            unique.append(q)
    return unique


def _rename(s: Statement, old: str, new: str) -> Statement:
    return replace(s, args=tuple(new if a == old else a for a in s.args),
                   cond=new if s.cond == old else s.cond)


def shrink(p: Program, wanted, judge, max_rounds: int = 12, deadline=None,
           ) -> tuple[Program, int]:
    """``judge(programs) -> [partition key]``; returns the smallest program found that keeps
    ``wanted``, and how many candidates were evaluated. Candidates go in stages (statements,
    then shapes, then values and checks): a stage is evaluated only when the ones before it
    found nothing smaller. Past ``deadline`` (time.monotonic()) it returns what it has."""
    import time
    tried = 0
    q = rebuild(p) or p
    for _ in range(max_rounds):
        progressed = False
        for stage in stages(q):
            if deadline is not None and time.monotonic() > deadline:
                return q, tried
            if not stage:
                continue
            keys = judge(stage)
            tried += len(stage)
            better = [c for c, k in zip(stage, keys) if k == wanted]
            if better:
                q = min(better, key=size)
                progressed = True
                break
        if not progressed:
            break
    return q, tried


def stages(p: Program) -> list[list[Program]]:
    cands = candidates(p)
    by = [[], [], []]
    for c in cands:
        if len(c.statements) < len(p.statements):
            by[0].append(c)
        elif sum(len(i.shape) for i in c.inputs) < sum(len(i.shape) for i in p.inputs):
            by[1].append(c)
        else:
            by[2].append(c)
    return by


def size(p: Program):
    # a generic (random) value is less simple than any special one
    return (len(p.statements), len(set(p.ops)), sum(len(i.shape) for i in p.inputs),
            sum(i.dtype == "float64" for i in p.inputs),
            sum(SPECIALS.index(i.special) + 1 if i.special in SPECIALS else len(SPECIALS) + 1
                for i in p.inputs), len(p.checks[0].wrt), p.checks[0].order)
