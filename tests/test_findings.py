"""The README's findings table is built from a results document (harness/findings.py)."""

import json

from harness.cli import main
from harness.findings import END, START, divergences, rewrite_readme, table

DOC = {
    "schema_version": 1,
    "environment": {"frameworks": {"reference": "0.1.0", "torch": "2.13.0", "jax": "0.10.2"}},
    "cases": {
        "gelu-default": {"topic": "activations", "file": "cases/activations.yaml",
                         "checks": [{"id": "value"}, {"id": "grad"}]},
        "adam-eps": {"topic": "optimizers", "file": "cases/optimizers.yaml",
                     "checks": [{"id": "placement"}]},
    },
    "rows": [
        {"case": "gelu-default", "check": "value", "backend": "reference", "status": "pass",
         "divergence": None},
        {"case": "gelu-default", "check": "value", "backend": "torch", "status": "pass",
         "divergence": None},
        {"case": "gelu-default", "check": "value", "backend": "jax", "status": "divergence",
         "divergence": {"reason": "tanh | approximation\nby default",
                        "evidence": "https://docs.jax.dev/gelu"}},
        {"case": "gelu-default", "check": "value", "backend": "jax[jit]",
         "status": "divergence", "divergence": {"reason": "tanh | approximation\nby default",
                                                "evidence": "https://docs.jax.dev/gelu"}},
        {"case": "gelu-default", "check": "grad", "backend": "jax", "status": "fixed",
         "divergence": {"reason": "stale", "evidence": "x"}},
        {"case": "adam-eps", "check": "placement", "backend": "torch", "status": "fail",
         "divergence": None},
        {"case": "adam-eps", "check": "placement", "backend": "tensorflow",
         "status": "divergence", "divergence": {"reason": "epsilon hat",
                                                "evidence": "keras docs"}},
    ],
}


def test_one_row_per_declared_divergence_with_its_columns():
    found = divergences(DOC)
    assert [(e["case"], e["check"], e["columns"]) for e in found] == [
        ("gelu-default", "value", ["jax", "jax[jit]"]),
        ("adam-eps", "placement", ["tensorflow"])]  # the `fixed` row is no finding


def test_table_grouped_by_topic_with_counts():
    md = table(DOC)
    assert md.startswith("2 cases, 3 checks, 7 verdicts (`torch 2.13.0`, `jax 0.10.2`): ")
    assert "3 `divergence`" in md and "1 `fail`" in md and "1 `fixed`" in md
    assert "2 declared divergences (a check that parts on one or more columns) in 2 topics" in md
    assert md.index("### activations (1)") < md.index("### optimizers (1)")
    assert ("| `gelu-default` | `value` | jax, jax[jit] | tanh \\| approximation by default | "
            "<https://docs.jax.dev/gelu> |") in md
    assert "| `adam-eps` | `placement` | tensorflow | epsilon hat | keras docs |" in md


def test_rewrite_readme_between_markers_only():
    text = f"# t\n\nbefore\n{START}\nold table\n{END}\n\nafter\n"
    new = rewrite_readme(text, "NEW\n")
    assert new == f"# t\n\nbefore\n{START}\n\nNEW\n\n{END}\n\nafter\n"
    assert rewrite_readme(new, "NEW\n") == new  # idempotent
    try:
        rewrite_readme("no markers", "x")
    except ValueError as exc:
        assert "markers" in str(exc)
    else:
        raise AssertionError("no markers must raise")


def test_cli_prints_and_rewrites(tmp_path, capsys):
    results = tmp_path / "r.json"
    results.write_text(json.dumps(DOC))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\nrest\n")
    assert main(["findings", str(results)]) == 0
    assert "### activations (1)" in capsys.readouterr().out
    assert readme.read_text().count("old") == 1
    assert main(["findings", str(results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and "### optimizers (1)" in text and text.endswith(f"{END}\nrest\n")
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    assert main(["findings", str(results), "--readme", str(bare)]) == 2
    assert bare.read_text() == "no markers\n"
