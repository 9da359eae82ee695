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


def signature(program, classes, convention: str | None = None) -> dict:
    """The ops of the shrunk program, the check kind and order, the class of the special
    point, the partition. Two conventions that hold whatever the ops are named instead of
    the ops: ``unused_input`` (a gradient for an input the output does not use) and
    ``float64_as_float32`` (columns that part only by precision on float64 inputs)."""
    check = program.checks[0]
    if "unused" in program.special:
        ops = ["unused_input"]
    elif convention:
        ops = [convention]
    else:
        ops = sorted(set(program.ops))
    kind = f"{check.kind}{check.order if check.kind == 'grad' else ''}"
    part = spell(classes)
    digest = hashlib.sha1(part.encode()).hexdigest()[:6]
    slug = re.sub(r"[^a-z0-9_.-]+", "-", f"{'-'.join(ops)}.{kind}.{program.special}.{digest}"
                  .lower())
    return {"id": slug, "ops": ops, "kind": check.kind, "order": check.order,
            "special": program.special, "partition": part}


def choose_expect(classes, observations, oracle, tol):
    """The class that stands for ``expect``: the one the float64 oracle agrees with, else
    the largest (ties: the one with the reference engine, then column order)."""
    from harness.explore.consensus import agree
    if oracle is not None and oracle.status != "n/a":
        for cls in classes:
            if agree(observations[cls[0]], oracle, tol):
                return cls, "the float64 reference engine (oracle) agrees with this class"
    ordered = sorted(classes, key=lambda c: (-len(c), "reference" not in c))
    return ordered[0], "the majority of columns"


def short(value) -> str:
    text = describe(value)
    return text if len(text) <= 80 else text[:77] + "..."


def write_case(out: Path, sig: dict, program, classes, observations, oracle, tol, found: dict,
               known: bool) -> Path:
    chosen, why = choose_expect(classes, observations, oracle, tol)
    d = case_dict(program, sig["id"], title=f"explore: {' '.join(sig['ops'])} "
                  f"({sig['kind']}{sig['order'] if sig['kind'] == 'grad' else ''}) at "
                  f"{sig['special']}")
    check = d["checks"][0]
    check["expect"] = plain(observations[chosen[0]].value)
    says = "; ".join(f"{c} gives {short(observations[c].value)}" for cls in classes
                     for c in cls[:1]) + "."
    check["note"] = (f"expect: {why}. Partition: {sig['partition']}. " + says)
    diverges = {}
    for cls in classes:
        if cls is chosen:
            continue
        for column in cls:
            diverges[column] = {
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


def atlas_entry(sig, program, classes, observations, path, known, oracle) -> dict:
    cls_of = {c: i for i, cls in enumerate(classes) for c in cls}
    return {**sig, "known": known, "case": Path(path).name, "program": program.text(),
            "inputs": {i.name: {"value": plain(i.array()), "dtype": i.dtype,
                                "special": i.special} for i in program.inputs},
            "wrt": list(program.checks[0].wrt),
            "cells": {c: {"class": cls_of.get(c), "value": short(o.value) if o.status != "n/a"
                          else "n/a", "observed": encode(o.value)}
                      for c, o in observations.items()},
            "oracle": short(oracle.value) if oracle is not None else None}


def write_atlas(out: Path, entries: list[dict], meta: dict) -> Path:
    path = Path(out) / "atlas.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "divergences": entries}, indent=1, default=str))
    tmp.replace(path)
    return path
