"""--resume continues an interrupted results file; --shard K/N splits a run and
``conformance merge --shards`` puts it back together: the same rows as one run."""

import json
import random

import pytest

from harness.cases import load_paths
from harness.cli import main
from harness.results import select_shard

SEVEN = "".join(f"""
  - id: case-{i}
    title: Case {i}
    inputs:
      x: {{value: {i}.0, track: true}}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x]
        expect: [{2 * i}.0]
      - value: y
""" for i in range(7))


@pytest.fixture
def seven(write_case):
    return write_case("cases:" + SEVEN.replace("case-6", "a-late-case"), "seven.yaml")


def _run(*args):
    return main(["run", *map(str, args), "--frameworks", "reference", "--jobs", "1"])


def _rows(doc):
    return [{k: v for k, v in r.items() if k != "duration_s"} for r in doc["rows"]]


def _doc(path):
    return json.loads(path.read_text())


def test_shards_are_disjoint_cover_everything_and_do_not_depend_on_order(seven):
    cases = load_paths([seven]).cases
    shards = [select_shard(cases, k, 3) for k in (1, 2, 3)]
    ids = [c.id for shard in shards for c in shard]
    assert sorted(ids) == sorted(c.id for c in cases) and len(ids) == len(set(ids))
    assert [len(s) for s in shards] == [3, 2, 2]
    shuffled = list(reversed(cases))
    assert [c.id for c in select_shard(shuffled, 2, 3)] == [c.id for c in reversed(shards[1])]


def test_three_shards_merged_equal_one_run(seven, tmp_path):
    assert _run(seven, "--json", tmp_path / "one.json", "--junit", tmp_path / "one.xml") == 0
    for k in (1, 2, 3):
        assert _run(seven, "--shard", f"{k}/3", "--json", tmp_path / f"s{k}.json") == 0
        assert _doc(tmp_path / f"s{k}.json")["run"]["options"]["shard"] == f"{k}/3"
    shards = [tmp_path / f"s{k}.json" for k in (3, 1, 2)]  # any order
    assert main(["merge", "--shards", *map(str, shards), "--json", str(tmp_path / "m.json"),
                 "--html", str(tmp_path / "m.html"), "--junit", str(tmp_path / "m.xml")]) == 0
    one, merged = _doc(tmp_path / "one.json"), _doc(tmp_path / "m.json")
    assert _rows(merged) == _rows(one)
    assert merged["cases"] == one["cases"]
    assert merged["environment"]["frameworks"] == one["environment"]["frameworks"]
    assert merged["run"]["complete"] and merged["run"]["shards"] == 3
    assert "--shard" not in merged["run"]["command"]
    # the reports are made from the same rows: JUnit lists the same tests with the same outcome
    import xml.etree.ElementTree as ET

    def tests(path):
        return [(tc.get("classname"), tc.get("name"), [child.tag for child in tc])
                for tc in ET.parse(path).getroot().iter("testcase")]
    assert tests(tmp_path / "m.xml") == tests(tmp_path / "one.xml")
    assert "case-3" in (tmp_path / "m.html").read_text()


def test_merging_an_incomplete_set_of_shards_is_refused(seven, tmp_path, capsys):
    for k in (1, 3):
        assert _run(seven, "--shard", f"{k}/3", "--json", tmp_path / f"s{k}.json") == 0
    code = main(["merge", "--shards", str(tmp_path / "s1.json"), str(tmp_path / "s3.json"),
                 "--json", str(tmp_path / "m.json")])
    assert code == 2 and "shards missing: 2/3" in capsys.readouterr().err
    code = main(["merge", "--shards", str(tmp_path / "s1.json"), str(tmp_path / "s1.json"),
                 "--json", str(tmp_path / "m.json")])
    assert code == 2 and "given twice: 1/3" in capsys.readouterr().err


def test_overlapping_files_are_not_shards(seven, tmp_path, capsys):
    assert _run(seven, "-k", "case-1", "--json", tmp_path / "a.json") == 0
    assert _run(seven, "-k", "case-1*", "--json", tmp_path / "b.json") == 0
    code = main(["merge", "--shards", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                 "--json", str(tmp_path / "m.json")])
    assert code == 2 and "the files overlap" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_cut_at_a_random_point_and_resumed_equals_one_run(seven, tmp_path, seed, capsys):
    full = tmp_path / "full.json"
    assert _run(seven, "--json", full) == 0
    doc = _doc(full)
    # what an interruption leaves: the first cases' rows, in the order they were judged,
    # complete: false (tests/test_faults.py interrupts real runs with signals)
    order = list(dict.fromkeys(r["case"] for r in doc["rows"]))
    cut = random.Random(seed).randrange(len(order))
    kept = set(order[:cut])
    doc["rows"] = [r for r in doc["rows"] if r["case"] in kept]
    if kept and seed == 3:  # a case judged only in part is run again, not duplicated
        doc["rows"] += [r for r in _doc(full)["rows"] if r["case"] == order[cut]][:1]
    doc["run"].update(complete=False, finished=None)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["run", "--resume", str(partial), "--jobs", "1"]) == 0
    assert f"{len(kept)} cases done, {len(order) - len(kept)} to run" in capsys.readouterr().err
    resumed = _doc(partial)
    assert resumed["run"]["complete"] is True
    assert _rows(resumed) == _rows(_doc(full))
    assert resumed["cases"] == _doc(full)["cases"]


def test_resuming_a_complete_file_runs_nothing(seven, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert _run(seven, "--json", out) == 0
    before = _rows(_doc(out))
    assert main(["run", "--resume", str(out)]) == 0
    assert "7 cases done, 0 to run" in capsys.readouterr().err
    assert _rows(_doc(out)) == before


def test_resume_keeps_the_selection_and_refuses_other_frameworks(seven, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert _run(seven, "-k", "case-1", "--json", out) == 0
    assert main(["run", "--resume", str(out)]) == 0  # -k and the frameworks come from the file
    assert "1 cases done, 0 to run" in capsys.readouterr().err
    assert main(["run", "--resume", str(out), "--frameworks", "reference,torch"]) == 2
    assert "resume it with the same frameworks" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["run", "--resume", str(tmp_path / "bad.json")]) == 2
    assert "not a results file" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path / "missing.json")]) == 2
