"""Every verdict runs the script it shows: a row's script, run alone, prints its observation.

A seed run (every case of ``cases/`` on every installed framework) writes its results; each
row's ``repro`` is then run in a fresh interpreter, as a user runs a script copied from the
report, and what it prints (one JSON line per observation) must equal the row's observation.
The default run takes one row per check kind and column; ``--runslow`` takes every row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.scripts import assemble
from harness.values import decode, encode

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    from harness.cli import main

    out = tmp_path_factory.mktemp("seed")
    code = main(["run", str(ROOT / "cases"), "--json", str(out / "results.json"),
                 "--log-dir", str(out / "logs")])
    doc = json.loads((out / "results.json").read_text())
    return code, doc, out


def test_the_seed_run_has_no_fail_and_no_error(seed_run):
    code, doc, _ = seed_run
    bad = [(r["case"], r["check"], r["backend"], r["status"], r.get("message"))
           for r in doc["rows"] if r["status"] in ("fail", "error")]
    assert not bad and code == 0


def test_every_row_that_ran_carries_its_script(seed_run):
    _, doc, _ = seed_run
    missing = [(r["case"], r["check"], r["backend"]) for r in doc["rows"]
               if r["status"] not in ("n/a", "skipped") and not r.get("repro")]
    assert not missing


def _printed(script: str, folder: Path, name: str) -> tuple[object, str]:
    path = folder / f"{name}.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    items = {}
    for line in run.stdout.splitlines():
        if line.startswith('{"name": '):
            item = json.loads(line)
            items[item["name"]] = decode(item["value"])
    return items, run.stderr[-2000:]


def _check_rows(rows, folder):
    def one(row):
        name = f"{row['case']}--{row['check']}--{row['backend']}".replace("[", "_").replace("]", "")
        items, stderr = _printed(row["repro"], folder, name)
        got = encode(assemble(items, row["kind"])) if items else None
        return row, got, stderr

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, rows))
    wrong = [(f"{r['case']}::{r['check']}[{r['backend']}]", got, r["observed"], err)
             for r, got, err in results if json.dumps(got, sort_keys=True)
             != json.dumps(r["observed"], sort_keys=True)]
    assert not wrong, "\n\n".join(f"{where}\n  printed:  {str(got)[:600]}\n  observed: "
                                  f"{str(obs)[:600]}\n{err}" for where, got, obs, err in wrong)


def _ran(doc):
    return [r for r in doc["rows"] if r.get("repro") and r["status"] not in ("n/a", "skipped")]


def test_a_script_per_check_kind_and_column_prints_what_the_report_shows(seed_run, tmp_path):
    _, doc, _ = seed_run
    sample = {}
    for row in _ran(doc):
        sample.setdefault((row["kind"], row["backend"]), row)
    assert len({kind for kind, _ in sample}) >= 10  # the seed cases use every check kind
    _check_rows(list(sample.values()), tmp_path)


@pytest.mark.slow
def test_every_script_prints_what_the_report_shows(seed_run, tmp_path):
    _, doc, _ = seed_run
    _check_rows(_ran(doc), tmp_path)
