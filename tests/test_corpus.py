"""The corpus of malformed case files (tests/corpus): each is refused with its message, the
file and the line, no traceback, and the file's other case still loads and runs.

Each file starts with ``# expect: <fragment of the message>``; a second line ``# file``
marks a file that is refused as a whole (nothing in it can load), ``# runtime`` one that
only fails when it runs (the fragment is then in the failing row's message).
"""

import re
import time
from pathlib import Path

import pytest

from harness.cases import load_file, load_paths
from harness.cli import main
from harness.runner import RunOptions, run_cases

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))


def _header(path: Path) -> tuple[str, str | None]:
    first, second = (path.read_bytes().decode("utf-8", "replace").splitlines() + [""])[:2]
    assert first.startswith("# expect: "), f"{path.name}: no `# expect:` line"
    mode = second[2:] if second in ("# file", "# runtime") else None
    return first.removeprefix("# expect: "), mode


REFUSED = [p for p in FILES if _header(p)[1] != "runtime"]
RUNTIME = [p for p in FILES if _header(p)[1] == "runtime"]


def _ok_id(path: Path) -> str:
    return "ok-" + path.stem.replace("_", "-")


def test_the_corpus_is_large_enough():
    assert len(FILES) >= 50 and len(RUNTIME) >= 3


@pytest.mark.parametrize("path", REFUSED, ids=[p.stem for p in REFUSED])
def test_validate_refuses_it_naming_file_and_line(path, capsys):
    fragment, mode = _header(path)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    text = out.err + out.out
    assert "Traceback" not in text
    assert fragment in text, text
    assert re.search(re.escape(str(path)) + r":\d+: ", text), text  # file:line:
    loaded = load_file(path)
    if mode == "file":
        assert loaded.cases == []
    else:  # the broken case costs itself: the file's valid case still loads
        assert [c.id for c in loaded.cases] == [_ok_id(path)]
    line = loaded.errors[0].line
    assert line and 1 <= line <= len(path.read_bytes().splitlines()), line


@pytest.mark.parametrize("path", RUNTIME, ids=[p.stem for p in RUNTIME])
def test_runtime_failures_validate(path):
    loaded = load_file(path)
    assert loaded.errors == [] and len(loaded.cases) == 2


def test_the_whole_corpus_validates_in_under_ten_seconds():
    start = time.perf_counter()
    loaded = load_paths([CORPUS])
    elapsed = time.perf_counter() - start
    assert len(loaded.errors) == len(REFUSED)
    assert elapsed < 10, f"{elapsed:.1f} s"  # a hang guard: it takes well under a second


def test_the_valid_cases_run_and_the_runtime_failures_name_their_cause():
    cases = [c for c in load_paths([CORPUS]).cases]
    assert len(cases) == len(FILES) - sum(_header(p)[1] == "file" for p in FILES) + len(RUNTIME)
    rows = run_cases(cases, RunOptions(frameworks=["reference"], jobs=1, timeout=5))
    by_case: dict[str, list] = {}
    for row in rows:
        by_case.setdefault(row["case"], []).append(row)
    for case in cases:
        statuses = {r["status"] for r in by_case[case.id]}
        if case.id.startswith("ok-"):
            assert statuses == {"pass"}, (case.id, by_case[case.id])
    for path in RUNTIME:
        fragment, _ = _header(path)
        (row,) = by_case["bad-" + path.stem.replace("_", "-")]
        assert row["status"] in ("fail", "error"), row
        assert fragment in row["message"], row["message"]
        assert "Traceback" not in row["message"]
