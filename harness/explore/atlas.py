"""The conventions atlas: one grid per op (rows: the special points and checks where the
columns part; columns: the six columns; cells: what each gives, coloured by agreement class,
each linking to its case). Self-contained HTML in the report's look."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "report"
COLUMNS = ["reference", "torch", "tensorflow", "tensorflow[function]", "jax", "jax[jit]"]


def load_atlas(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def grids(atlas: dict) -> list[dict]:
    columns = atlas.get("meta", {}).get("columns") or COLUMNS
    by_op: dict[str, list] = {}
    for e in atlas.get("divergences", []):
        for op in e["ops"]:
            by_op.setdefault(op, []).append(e)
    out = []
    for op in sorted(by_op):
        rows = []
        for e in sorted(by_op[op], key=lambda e: (e["special"], e["kind"], e["order"])):
            kind = e["kind"] + (str(e["order"]) if e["kind"] == "grad" else "")
            cells = [{"column": c, **e["cells"].get(c, {"class": None, "value": "-"})}
                     for c in columns]
            rows.append({"special": e["special"], "kind": kind, "case": e["case"],
                         "id": e["id"], "known": e["known"], "program": e["program"],
                         "partition": e["partition"], "cells": cells,
                         "releases": e.get("releases"), "changed": e.get("changed", False)})
        out.append({"op": op, "rows": rows})
    return out


def write_atlas_html(atlas_json: Path, out: Path) -> Path:
    atlas = load_atlas(atlas_json)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    css = (REPORT / "static" / "report.css").read_text(encoding="utf-8")
    html = env.get_template("atlas.html.j2").render(
        css=css, meta=atlas.get("meta", {}), grids=grids(atlas),
        columns=atlas.get("meta", {}).get("columns") or COLUMNS,
        total=len(atlas.get("divergences", [])),
        new=sum(1 for e in atlas.get("divergences", []) if not e["known"]))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def merge_atlases(paths, out_json: Path | None = None, out_html: Path | None = None) -> dict:
    """Explore results of several framework versions (the tox matrix) as one atlas: every
    signature once, with ``releases``: for each run (labelled by its versions) the partition
    it showed, or None where that run did not find it; ``changed`` where they differ."""
    runs = [load_atlas(p) for p in paths]
    labels = [", ".join(f"{k} {v}" for k, v in sorted(r.get("meta", {}).get("versions", {})
                                                     .items())) or str(p)
              for r, p in zip(runs, paths)]
    merged: dict[str, dict] = {}
    for label, run in zip(labels, runs):
        for e in run.get("divergences", []):
            # the signature without the partition's digest: the same finding across releases
            key = (tuple(e["ops"]), e["kind"], e["order"], e["special"])
            entry = merged.setdefault(key, dict(e, releases={}))
            entry["releases"][label] = e["partition"]
    for entry in merged.values():
        seen = [entry["releases"].get(label) for label in labels]
        entry["releases"] = {label: entry["releases"].get(label) for label in labels}
        entry["changed"] = len(set(seen)) > 1
    meta = dict(runs[0].get("meta", {}) if runs else {}, merged=labels)
    atlas = {"meta": meta, "divergences": list(merged.values())}
    if out_json:
        Path(out_json).write_text(json.dumps(atlas, indent=1, default=str))
    if out_html:
        tmp = Path(out_json or Path(out_html).with_suffix(".json"))
        if not out_json:
            tmp.write_text(json.dumps(atlas, indent=1, default=str))
        write_atlas_html(tmp, out_html)
    return atlas
