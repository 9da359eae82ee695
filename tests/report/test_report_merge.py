"""merge(): version columns, verdict changes across versions, the version-matrix page."""
import copy

from harness.report import merge, render_html, write_html


def test_columns_are_backend_and_version(three_runs):
    m = merge(three_runs)
    keys = [c["key"] for c in m["columns"]]
    assert keys == ["reference 0.1.0", "torch 2.4.0+cpu", "torch 2.5.1+cpu", "torch 2.13.0+cpu",
                    "tensorflow 2.16.1", "tensorflow 2.18.0", "tensorflow 2.21.0",
                    "tensorflow[function] 2.16.1", "tensorflow[function] 2.18.0", "tensorflow[function] 2.21.0",
                    "jax 0.4.38", "jax 0.10.2", "jax[jit] 0.4.38", "jax[jit] 0.10.2"]
    assert m["merged"] is True and len(m["runs"]) == 3
    assert all("column" in r and "run" in r for r in m["rows"])
    assert {r["column"] for r in m["rows"] if r["backend"] == "jax[jit]"} == {"jax[jit] 0.4.38", "jax[jit] 0.10.2"}


def test_same_version_in_several_runs_is_one_column(three_runs):
    m = merge(three_runs)
    ref = [c for c in m["columns"] if c["backend"] == "reference"]
    assert len(ref) == 1 and ref[0]["runs"] == [0, 1, 2]
    assert len([r for r in m["rows"] if r["backend"] == "reference"]) == 17


def test_uninstalled_framework_rows_dropped(three_runs):
    m = merge(three_runs)
    assert m["dropped_skipped_rows"] == 34  # jax and jax[jit] in the tf216 run
    assert not any(r["version"] is None for r in m["rows"])


def test_verdict_changes(three_runs):
    m = merge(three_runs)
    changes = {(c["case"], c["check"], c["backend"]): [v["status"] for v in c["verdicts"]] for c in m["changes"]}
    assert changes == {
        ("broadcast-grad-large", "grad-x", "torch"): ["pass", "pass", "fail"],
        ("logsumexp-large", "grad-lse", "tensorflow[function]"): ["pass", "pass", "fail"],
        ("relu-at-zero", "grad-relu", "tensorflow"): ["divergence", "divergence", "fixed"],
        ("retrace-python-scalar", "trace-count", "tensorflow[function]"): ["pass", "pass", "error"],
        ("sgd-nesterov-quadratic", "nesterov-path", "tensorflow"): ["pass", "pass", "fail"],
        ("sgd-nesterov-quadratic", "nesterov-path", "tensorflow[function]"): ["pass", "pass", "fail"],
    }
    # versions in order, not in run order
    c = next(c for c in m["changes"] if c["backend"] == "tensorflow")
    assert [v["version"] for v in c["verdicts"]] == ["2.16.1", "2.18.0", "2.21.0"]


def test_no_change_when_only_skipped_differs(three_runs):
    a, b = three_runs[0], copy.deepcopy(three_runs[0])
    for r in b["rows"]:
        if r["backend"] == "torch":
            r["version"] = "9.9.9"
            r["status"] = "skipped" if r["case"] == "custom-relu-linear" else r["status"]
    b["environment"]["frameworks"]["torch"] = "9.9.9"
    assert not [c for c in merge([a, b])["changes"] if c["case"] == "custom-relu-linear"]


def test_conflicting_runs_of_same_version(sample):
    other = copy.deepcopy(sample)
    other["run"]["label"] = "other-machine"
    row = next(r for r in other["rows"] if r["case"] == "abs-at-zero" and r["backend"] == "torch")
    row["status"] = "fail"
    m = merge([sample, other])
    assert m["conflicts"] == [{"case": "abs-at-zero", "check": "grad-abs", "column": "torch 2.13.0+cpu",
                               "verdicts": {"tf221": "pass", "other-machine": "fail"}}]
    kept = next(r for r in m["rows"] if r["case"] == "abs-at-zero" and r["column"] == "torch 2.13.0+cpu")
    assert kept["status"] == "fail"  # the worse verdict is kept
    assert len(m["rows"]) == len(sample["rows"])


def test_merge_of_merged(three_runs):
    once = merge(three_runs[:2])
    twice = merge([once, three_runs[2]])
    assert [c["key"] for c in twice["columns"]] == [c["key"] for c in merge(three_runs)["columns"]]
    assert len(twice["changes"]) == len(merge(three_runs)["changes"])


def test_version_matrix_page(three_runs, tmp_path):
    path = write_html(three_runs, tmp_path / "matrix.html")
    text = open(path, encoding="utf-8").read()
    assert "<title>Version matrix</title>" in text
    assert "Verdicts that change across versions" in text
    head = text[:text.index('id="summary"')]
    assert head.count("<li>") == 6
    for key in ("tensorflow 2.18.0", "jax[jit] 0.4.38", "torch 2.13.0+cpu"):
        assert key in text
    assert text.count('class="case-row changed"') == 5     # five cases have a change
    assert 'class="cell s-fail changed"' in text
    # the same via an explicit merge
    assert render_html([merge(three_runs)], with_plots=False).count('class="case-row changed"') == 5
