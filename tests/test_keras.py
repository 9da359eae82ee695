"""Keras 3 on its three backends: the columns, one check per kind on each column, a script
run alone, and the "Keras promise" view of the report."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cases import load_file
from harness.dialects import FRAMEWORKS, dialect, split_column
from harness.plan import make_plan
from harness.report.model import build, keras_promise, promise_difference
from harness.values import encode

ROOT = Path(__file__).resolve().parents[1]
HAS_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="keras is not installed")
COLUMNS = ["keras[tensorflow]", "keras[jax]", "keras[torch]"]


def test_columns_are_bracketed_and_one_worker_each():
    fw = FRAMEWORKS["keras"]
    assert fw.columns() == COLUMNS  # no bare `keras` column
    assert fw.workers() == [(c, split_column(c)[1]) for c in COLUMNS]
    assert fw.mode_env == "KERAS_BACKEND"
    assert FRAMEWORKS["jax"].workers() == [("jax", None)]  # the others: one worker each


def test_cli_lists_the_keras_columns():
    out = subprocess.run([str(Path(sys.executable).with_name("conformance")), "frameworks"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, COLUMNS="250"))  # a wide table: no wrapping
    text = out.stdout + out.stderr
    for column in COLUMNS:
        assert column in text


def test_scripts_set_the_backend_before_importing_keras():
    d = dialect("keras")
    case = next(c for c in load_file(ROOT / "cases/keras.yaml").cases
                if c.id == "keras-dense-relu-seeded")
    for mode in d.modes:
        script = d.render(make_plan(case, case.checks[0], case.check_ids[0]), mode)
        head = script.split("import keras", 1)[0]
        assert f"os.environ['KERAS_BACKEND'] = '{mode}'" in head
        assert "keras.ops." in script
        assert f"[keras[{mode}]]" in script.splitlines()[0]


def test_kinds_keras_has_no_notion_of_are_na_with_a_reason():
    from harness.dialects.base import NotApplicable
    d = dialect("keras")
    case = next(c for f in sorted((ROOT / "cases").glob("*.yaml")) for c in load_file(f).cases
                if any(ch.kind == "attributes" for ch in c.checks))
    i = next(k for k, ch in enumerate(case.checks) if ch.kind == "attributes")
    with pytest.raises(NotApplicable, match="PyTorch"):
        d.render(make_plan(case, case.checks[i], case.check_ids[i]), "torch")


def test_fit_is_na_on_the_other_frameworks():
    from harness.dialects.base import NotApplicable
    case = next(c for c in load_file(ROOT / "cases/keras.yaml").cases
                if c.id == "keras-fit-sgd-linear")
    i = case.check_ids.index("fit")
    plan = make_plan(case, case.checks[i], "fit")
    for name in ("torch", "jax", "tensorflow"):
        with pytest.raises(NotApplicable, match="fit|Keras|keras"):
            dialect(name).render(plan)


# ---- spellings: defaults, ops that were lacking, while_loop --------------------------------

def _script(tmp_path, program: str, kind: str = "value", value: str = "y") -> str:
    from tests.dialects.dialect_testing import load_case
    case = load_case(tmp_path, f"""
        cases:
          - id: spelled
            title: a spelling
            inputs:
              v: {{value: [[-1.5, 0.5], [2.0, -0.25]]}}
              i: {{value: [1, 0]}}
            program: |
              {program}
            checks:
              - value: {value}
        """)
    return dialect("keras").render(make_plan(case, case.checks[0], case.check_ids[0]), "jax")


@pytest.mark.parametrize("program, unwritten, written_default", [
    ("y = leaky_relu(v)", "keras.ops.leaky_relu(v, negative_slope=0.01)", "keras.ops.leaky_relu(v)"),
    ("y = gelu(v)", "keras.ops.gelu(v, approximate=False)", "keras.ops.gelu(v)"),
    ("y = gather(v, i)", "keras.ops.take(v, i, axis=0)", "keras.ops.take(v, i)"),
    ("y = take_along_axis(v, i)", "keras.ops.take_along_axis(v, i, axis=-1)",
     "keras.ops.take_along_axis(v, i)"),
    ("y = svd(v)[0]", "keras.ops.svd(v, full_matrices=False)", "keras.ops.svd(v)"),
    ("y = layer_norm(v)", "epsilon=1e-05)", "keras.ops.layer_normalization(v, None, None, axis=-1)"),
])
def test_an_unwritten_attribute_is_the_vocabularys_and_default_is_kerass(tmp_path, program, unwritten,
                                                                          written_default):
    """Where Keras's own default is not the vocabulary's, an attribute the case leaves out is
    passed as the vocabulary's; written ``=default``, it is left out (Keras's applies)."""
    assert unwritten in _script(tmp_path, program)
    attribute = {"leaky_relu": "alpha", "gelu": "approximate", "gather": "axis", "take_along_axis": "axis",
                 "svd": "full_matrices", "layer_norm": "eps"}[program.split(" = ")[1].split("(")[0]]
    defaulted = program.replace(")", f", {attribute}=default)", 1)
    assert written_default in _script(tmp_path, defaulted)


def test_a_default_reduction_is_the_keras_loss_object(tmp_path):
    script = _script(tmp_path, "y = huber(v, v, reduction=default)")
    assert "keras.losses.Huber(delta=1.0)(v, v)" in script  # delta unwritten: the vocabulary's
    assert "keras.losses.Huber()(v, v)" in _script(tmp_path, "y = huber(v, v, delta=default, reduction=default)")
    assert "keras.ops.mean(keras.losses.huber(" in _script(tmp_path, "y = huber(v, v)")


def test_ops_keras_has_are_spelled_not_lacking(tmp_path):
    for program, spelled in [("e = eigh(v)\n              y = e[0]", "keras.ops.eigh(v)"),
                             ("y = svd(v, full_matrices=False)[1]", "keras.ops.svd("),
                             ("y = conv2d(v, v)", "keras.ops.conv("),
                             ("y = sort(v, descending=True)", "keras.ops.flip(keras.ops.sort(")]:
        assert spelled in _script(tmp_path, program)


@pytest.mark.parametrize("backend, outside", [("tensorflow", "tf.init_scope()"),
                                              ("jax", "jax.ensure_compile_time_eval()"),
                                              ("torch", "torch.no_grad()")])
def test_layers_with_state_are_keras_layers_built_outside_the_trace(tmp_path, backend, outside):
    """batch_norm_train, lstm_cell and gru_cell call keras.layers with Layer.stateless_call, on
    every backend; the layer is built under the backend's way out of a trace."""
    from tests.dialects.dialect_testing import load_case
    case = load_case(tmp_path, """
        cases:
          - id: layers
            title: the layers with state and layouts
            inputs:
              x: {value: [[-1.5, 0.5], [2.0, -0.25]]}
              m: [0.0, 0.0]
              w: {value: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8], [0.9, 1.0], [1.1, 1.2]]}
            program: |
              s = batch_norm_train(x, m, m, momentum=0.25)
              g = gru_cell(x, x, w, w, layout="native")
              l = lstm_cell(x, x, x, concat([w, w[0:2]]), concat([w, w[0:2]]))
              y = s[0] + g + l[0]
            checks:
              - value: y
        """)
    script = dialect("keras").render(make_plan(case, case.checks[0], case.check_ids[0]), backend)
    # Keras's momentum is the old statistics' weight; its epsilon default (1e-3) is not the vocabulary's
    assert "batch_norm_train(x, m, m, momentum=0.75, epsilon=1e-05)" in script
    assert "gru_cell(x, x, w, w, layout='native')" in script
    assert script.count(".stateless_call(") == 3 and "getattr(keras.layers, kind)" in script
    assert f"with {outside}:" in script


def test_while_loop_is_keras_ops_while_loop_and_a_graph_is_na():
    from harness.dialects.base import NotApplicable
    case = next(c for c in load_file(ROOT / "cases/static_graphs.yaml").cases if c.id == "counter-loop")
    d = dialect("keras")
    script = d.render(make_plan(case, case.check("eager"), "eager"), "torch")
    assert "keras.ops.while_loop(cond, body, (" in script
    with pytest.raises(NotApplicable, match="define-then-run"):
        d.render(make_plan(case, case.check("in-a-graph"), "in-a-graph"), "torch")


def test_rmsprop_momentum_is_passed():
    from harness.cases import Optimizer
    from harness.dialects.keras import _optimizer
    o = Optimizer(name="rmsprop", lr=0.01, rho=0.9, eps=1e-8, centered=True, momentum=0.5)
    assert _optimizer(o) == ("keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, rho=0.9, "
                             "centered=True, epsilon=1e-08)")


@needs_keras
@pytest.mark.slow
def test_one_case_per_kind_on_each_keras_column(tmp_path):
    """value, grad and optimize (custom loop and fit) on the three columns, in workers."""
    out = tmp_path / "r.json"
    proc = subprocess.run([str(Path(sys.executable).with_name("conformance")), "run", "cases/keras.yaml", "-f",
                           "reference,keras", "-k", "keras-fit-sgd-linear", "--json", str(out),
                           "-j", "2"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    by = {(r["check"], r["backend"]): r for r in rows}
    for column in COLUMNS:
        for check in ("custom-loop", "fit"):
            assert by[(check, column)]["status"] in ("pass", "divergence"), by[(check, column)]


@needs_keras
@pytest.mark.slow
def test_a_script_runs_alone(tmp_path):
    from harness.scripts import standalone
    d = dialect("keras")
    case = next(c for c in load_file(ROOT / "cases/keras.yaml").cases
                if c.id == "keras-dense-relu-seeded")
    script = standalone(d.render(make_plan(case, case.checks[1], case.check_ids[1]), "jax"),
                        "keras", "grad")
    path = tmp_path / "script.py"
    path.write_text(script)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("KERAS_BACKEND", None)
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["name"] == "grad"


def _row(column, value, check="c", status="pass"):
    fw, mode = split_column(column)
    return {"case": "k", "check": check, "kind": "value", "backend": column, "framework": fw,
            "mode": mode, "version": "3.15.1", "status": status, "message": "",
            "observed": encode(value)}


def test_promise_difference():
    import numpy as np
    assert promise_difference(encode(np.float32(1.0)), encode(np.float32(1.0))) == 0.0
    assert promise_difference(encode([np.float32(1.0)]), encode([np.float32(1.5)])) == 0.5
    assert promise_difference(encode(np.zeros(2)), encode(np.zeros(3))) == float("inf")
    assert promise_difference(encode(np.array([np.nan])), encode(np.array([np.nan]))) == 0.0


def test_promise_view_lists_the_worst_first():
    import numpy as np
    rows = [_row(c, np.float32(v), "a") for c, v in zip(COLUMNS, (1.0, 1.0, 1.0 + 1e-3))]
    rows += [_row(c, np.float32(2.0), "b") for c in COLUMNS]
    rows += [_row(c, np.float32(v), "c") for c, v in zip(COLUMNS, (0.0, 1e-6, 0.0))]
    rows += [_row("torch", np.float32(9.0), "a")]  # not a Keras column
    rows += [_row("keras[jax]", None, "d", status="n/a")]
    view = keras_promise({"rows": rows})
    assert [it["check"] for it in view["checks"]] == ["a", "c", "b"]
    assert view["n_over"] == 2 and view["n"] == 3
    assert set(view["checks"][0]["pair"]) <= set(COLUMNS)
    doc = {"schema_version": 1, "rows": rows, "cases": {}, "environment": {}, "run": {}}
    model = build(doc, with_plots=False)
    assert model["keras_promise"]["n_over"] == 2
    from harness.report.html import render_html
    html = render_html(doc, with_plots=False)
    assert "Keras promise" in html and "keras-promise" in html


@needs_keras
@pytest.mark.slow
def test_an_unwritten_attribute_means_the_vocabularys_default_on_the_keras_columns(tmp_path):
    """tests/dialects/test_unwritten_attributes.py for the Keras columns (one worker each): an
    op called with its attributes left out observes what it observes with each written as the
    vocabulary's default."""
    import numpy as np

    from harness.values import decode
    from tests.dialects.test_unwritten_attributes import SAMPLES, case_text
    path = tmp_path / "unwritten.yaml"
    path.write_text("cases:" + "".join(case_text(op).split("cases:", 1)[1] for op in sorted(SAMPLES)))
    out = tmp_path / "r.json"
    proc = subprocess.run([str(Path(sys.executable).with_name("conformance")), "run", str(path), "-f",
                           "keras", "--json", str(out), "-j", "3"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    rows = {(r["case"], r["check"], r["backend"]): r for r in json.loads(out.read_text())["rows"]}
    compared = 0
    for (case, check, column), row in rows.items():
        if check != "unwritten":
            continue
        other = rows[(case, "written", column)]
        assert row["status"] == other["status"], (case, column, row["message"], other["message"])
        if row["observed"] is not None and row["status"] != "n/a":
            left_out, spelled = decode(row["observed"]), decode(other["observed"])
            np.testing.assert_allclose(np.asarray(left_out, dtype=float), np.asarray(spelled, dtype=float),
                                       rtol=1e-12, atol=0, err_msg=f"{case} [{column}]")
            compared += 1
    assert compared >= 3 * 30, compared  # most ops run on all three columns
