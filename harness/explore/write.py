"""What the explorer writes: one case per signature (``DIR/<signature>.yaml``) that
``conformance run DIR`` reproduces with the same partition, and ``DIR/atlas.json``."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from harness.compare import describe
from harness.explore.cases import case_dict, dump, plain
from harness.explore.consensus import spell
from harness.values import encode


def signature(program, classes, observations=None, precision: bool = False,
              wrong=()) -> dict:
    """One phenomenon, one signature. An op phenomenon is keyed by the ops of the shrunk
    program, the check kind and order, the class of the special point, and the partition
    with what each class gives (``answers``: a value, zero, NaN, inf, None, or an error's
    category), plus the columns finite differences find ``wrong`` (``.wrong``). Where the op
    is irrelevant (``convention``), the key names the convention instead of the ops and
    leaves out what does not decide it (see ``convention``)."""
    check = program.checks[0]
    kind = f"{check.kind}{check.order if check.kind == 'grad' else ''}"
    part = spell(classes)
    said = answers(classes, observations) if observations else ""
    conv = convention(program, classes, observations, precision)
    if conv:
        name, key, special, label = conv
        ops, wrong = [name], []
        slug = f"{name}.{label}." if label else f"{name}."
    else:
        ops = sorted(set(program.ops))
        wc = wrt_convention(program)
        if wc:  # an unused or integer input asked for beside a used float input
            ops.append(wc[0])
        special = program.special
        key = f"{part} / {said} / {','.join(wrong)}"
        slug = f"{'-'.join(ops)}.{kind}.{special}{'.wrong' if wrong else ''}."
    digest = hashlib.sha1(key.encode()).hexdigest()[:6]
    slug = re.sub(r"[^a-z0-9_.-]+", "-", (slug + digest).lower())
    return {"id": slug, "ops": ops, "kind": check.kind, "order": check.order,
            "special": special, "partition": part, "answers": said, "wrong": list(wrong)}


def convention(program, classes, observations, precision: bool = False):
    """``(name, key, special, label)`` for a phenomenon no op decides, else ``None``:

    - ``float64_as_float32``: columns that part from the reference only by precision on
      float64 inputs (``precision``: they agree at float32's tolerance; JAX without x64).
      Keyed by those columns alone, whatever the op, check and point.
    - ``unused_input`` / ``integer_input``: every ``wrt`` name is an input the output does
      not use / an integer input. Keyed by the check kind and order and the partition with
      its answers, whatever the op and the other inputs' point.
    - ``integer_operand``: the program computes with an integer input (mixed with floats:
      promotion or refusal). Keyed by the check kind and order and the partition with its
      answers, whatever the op and point.
    - ``zero_derivative``: a derivative that is zero by structure (a piecewise-constant op, a
      higher derivative of a polynomial) which the columns spell differently: every class
      gives zero, None or an error, and they are not all errors. Keyed by the check kind
      (not the order) and the partition with its answers, whatever the op and point."""
    check = program.checks[0]
    kind = f"{check.kind}{check.order if check.kind == 'grad' else ''}"
    part = spell(classes)
    said = answers(classes, observations) if observations else ""
    if precision:
        return "float64_as_float32", "+".join(precision_columns(classes)), "float64", ""
    wc = wrt_convention(program)
    if wc and wc[1]:
        return wc[0], f"{kind} / {part} / {said}", wc[0].split("_")[0], kind
    used = program.live()
    if not wc and any(i.dtype.startswith("int") for i in program.inputs if i.name in used):
        return "integer_operand", f"{kind} / {part} / {said}", "int", kind
    if check.kind != "value" and observations and zero_spellings(classes, observations):
        return "zero_derivative", f"{check.kind} / {part} / {said}", "any", check.kind
    return None


def zero_spellings(classes, observations) -> bool:
    """Every class gives zero, None or an error (not all errors), in at least two ways."""
    kinds = [answer(observations[cls[0]]) for cls in classes]
    ok = all(k in ("zero", "none") or k.startswith("error:") for k in kinds)
    return ok and any(k in ("zero", "none") for k in kinds) and len(set(kinds)) > 1


def wrt_convention(program):
    """``(name, alone)`` where ``wrt`` names an input the output does not use, or an
    integer input: ``alone`` when every ``wrt`` name is such; ``None`` otherwise."""
    used = program.live()
    wrt = list(program.checks[0].wrt)
    for label, odd in (("unused_input", lambda n: n not in used),
                       ("integer_input", lambda n: program.input(n).dtype.startswith("int"))):
        hits = [n for n in wrt if odd(n)]
        if hits:
            return label, len(hits) == len(wrt)
    return None


def precision_columns(classes) -> list[str]:
    """The columns outside the class of the reference (else the largest class)."""
    home = next((c for c in classes if "reference" in c), max(classes, key=len))
    return sorted(col for cls in classes if cls is not home for col in cls)


def answers(classes, observations) -> str:
    """What each class gives, in words a signature can hold: ``value``, ``zero``, ``nan``,
    ``inf``, ``none`` or ``error:<category>`` (a list of them for several ``wrt`` names)."""
    return " | ".join(f"{'+'.join(cls)}={answer(observations[cls[0]])}"
                      for cls in sorted(classes, key=lambda c: (-len(c), c[0])))


def answer(obs) -> str:
    import numpy as np
    if obs is None or obs.status == "n/a":
        return "n/a"
    if obs.status == "error":
        return f"error:{obs.value.category}"

    def one(v):
        if v is None:
            return "none"
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(one(x) for x in v) + "]"
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            return "value"
        if a.size and np.all(np.isnan(a)):
            return "nan"
        if a.size and np.all(np.isinf(a)):
            return "inf"
        if a.size and np.all(a == 0):
            return "zero"
        return "value"
    return one(obs.value)


def choose_expect(classes, observations, oracle, tol, fd=None):
    """The class that stands for ``expect``: the one central finite differences agree with
    (where they apply), else the one the float64 oracle agrees with, else the largest (ties:
    the one with the reference engine, then column order)."""
    from harness.explore.consensus import agree
    from harness.explore.fd import observation, tolerance
    if fd is not None:
        hits = [cls for cls in classes
                if agree(observations[cls[0]], observation(fd), tolerance(tol), dtypes=False)]
        if len(hits) == 1:
            return hits[0], ("central finite differences of the float64 reference value "
                             "agree with this class")
    if oracle is not None and oracle.status != "n/a":
        for cls in classes:
            if agree(observations[cls[0]], oracle, tol, dtypes=False):
                return cls, "the float64 reference engine (oracle) agrees with this class"
    ordered = sorted(classes, key=lambda c: (-len(c), "reference" not in c))
    return ordered[0], "the majority of columns"


def short(value) -> str:
    text = describe(value)
    return text if len(text) <= 80 else text[:77] + "..."


def write_case(out: Path, sig: dict, program, classes, observations, oracle, tol, found: dict,
               known: bool, fd=None) -> Path:
    chosen, why = choose_expect(classes, observations, oracle, tol, fd)
    d = case_dict(program, sig["id"], title=f"explore: {' '.join(sig['ops'])} "
                  f"({sig['kind']}{sig['order'] if sig['kind'] == 'grad' else ''}) at "
                  f"{sig['special']}")
    check = d["checks"][0]
    check["expect"] = plain(observations[chosen[0]].value)
    says = "; ".join(f"{c} gives {short(observations[c].value)}" for cls in classes
                     for c in cls[:1]) + "."
    check["note"] = (f"expect: {why}. Partition: {sig['partition']}. " + says
                     + (f" Central finite differences give {short(fd.value)}." if fd else "")
                     + (f" {', '.join(sig['wrong'])} disagree with both the finite differences "
                        "and the float64 reference." if sig.get("wrong") else ""))
    diverges = {}
    for cls in classes:
        if cls is chosen:
            continue
        for column in cls:
            diverges[column_key(column, chosen)] = {
                "reason": f"{column} gives {short(observations[column].value)} where "
                          f"{'+'.join(chosen)} give {short(observations[chosen[0]].value)} "
                          f"(found by conformance explore)",
                "evidence": f"conformance explore --seed {found['seed']} "
                            f"(program {program.index})",
                "expect": plain(observations[column].value)}
    check["diverges"] = diverges
    d["source"] = f"conformance explore, seed {found['seed']}, program {program.index}"
    d["found"] = found
    d["tags"] = ["explored", "known" if known else "new"]
    path = Path(out) / f"{sig['id']}.yaml"
    dump([d], path, header=f"# Found by conformance explore: {sig['partition']}\n")
    return path


def column_key(column: str, chosen) -> str:
    """The ``diverges`` key of a column. A framework's first column carries the framework's
    bare name, which in ``diverges`` means all its columns: where one of its other columns
    is in the expected class, the column is named with its mode (``tensorflow[eager]``)."""
    from harness.dialects import FRAMEWORKS
    fw = FRAMEWORKS.get(column)
    if fw is None or len(fw.modes) < 2 or not any(c in chosen for c in fw.columns()):
        return column
    return f"{column}[{fw.modes[0]}]"


def atlas_entry(sig, program, classes, observations, path, known, oracle, fd=None) -> dict:
    cls_of = {c: i for i, cls in enumerate(classes) for c in cls}
    return {**sig, "known": known, "case": Path(path).name, "program": program.text(),
            "inputs": {i.name: {"value": plain(i.array()), "dtype": i.dtype,
                                "special": i.special} for i in program.inputs},
            "wrt": list(program.checks[0].wrt),
            "cells": {c: {"class": cls_of.get(c), "value": short(o.value) if o.status != "n/a"
                          else "n/a", "observed": encode(o.value)}
                      for c, o in observations.items()},
            "oracle": short(oracle.value) if oracle is not None else None,
            "finite_differences": short(fd.value) if fd is not None else None}


def write_atlas(out: Path, entries: list[dict], meta: dict) -> Path:
    path = Path(out) / "atlas.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "divergences": entries}, indent=1, default=str))
    tmp.replace(path)
    return path
