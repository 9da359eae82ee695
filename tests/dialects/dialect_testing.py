"""What the dialect tests share: the columns, inline cases, observing a check through its
rendered script, and expectations as data (``Value``, ``Raises``, ``NA``) per column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.cases import load_file
from harness.dialects import FRAMEWORKS, dialect
from harness.plan import make_plan
from harness.scripts import assemble, observe_check, standalone
from harness.values import ErrorValue, decode, encode

ROOT = Path(__file__).resolve().parents[2]

# what a framework's scripts import: a column is skipped where one is missing
REQUIRES = {"reference": ("reference_engine",), "torch": ("torch",),
            "tensorflow": ("tensorflow",), "jax": ("jax", "optax"), "keras": ("keras",)}


@dataclass(frozen=True)
class Column:
    """One column of the report: a framework in one of its modes."""

    framework: str
    mode: str

    @property
    def name(self) -> str:  # "torch", "jax[jit]"
        return self.framework if self.mode == FRAMEWORKS[self.framework].modes[0] \
            else f"{self.framework}[{self.mode}]"

    def dialect(self):
        """The framework's dialect; skips the test where its framework is not installed."""
        require(self.framework)
        return dialect(self.framework)


def require(framework: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for module in REQUIRES[framework]:
        pytest.importorskip(module, reason=f"{module} is not installed: no {framework} column")


def columns(*frameworks: str) -> list:
    """Every column of the frameworks (default: all), as pytest params named like the report."""
    out = []
    # a framework whose modes need one process each (Keras: KERAS_BACKEND is read at import)
    # cannot run its columns in this process: tests/test_keras.py runs them in workers
    for name in frameworks or [n for n, f in FRAMEWORKS.items() if not f.mode_env]:
        for mode in FRAMEWORKS[name].modes:
            column = Column(name, mode)
            out.append(pytest.param(column, id=column.name))
    return out


# ---- inline cases -------------------------------------------------------------------------


def load_case(tmp_path, text):
    """The one case of an inline YAML text (dedented), which must be valid."""
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    loaded = load_file(path)
    assert not loaded.errors, loaded.errors
    assert len(loaded.cases) == 1
    return loaded.cases[0]


def observe(tmp_path, text, column: Column, *check_ids: str) -> dict:
    """{check id: Observation} of the case's checks (default: all) in the column, each
    rendered by the column's dialect and run."""
    d = column.dialect()
    case = load_case(tmp_path, text)
    ids = check_ids or case.check_ids
    return {cid: observe_check(case, case.check(cid), cid, d, column.mode) for cid in ids}


def render(tmp_path, text, check_id: str, column: Column) -> str:
    """The check's script as the column's dialect writes it."""
    d = column.dialect()
    case = load_case(tmp_path, text)
    return d.render(make_plan(case, case.check(check_id), check_id), column.mode)


def run_alone(tmp_path, script: str, framework: str, kind: str, fails=False,
              timeout=300):
    """Run a rendered script alone in a fresh interpreter (as a user does): the check's
    value assembled from the JSON lines it prints, in the results file's encoding. A script
    that ``fails`` ends with its exception, printed as the error observation."""
    path = tmp_path / "script.py"
    path.write_text(standalone(script, framework, kind))
    done = subprocess.run([sys.executable, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert (done.returncode != 0) == fails, done.stderr[-3000:]
    observed = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            observed[item["name"]] = decode(item["value"])
    return encode(assemble(observed, kind))


# ---- reading observations -------------------------------------------------------------------


def ok(obs):
    assert obs.status == "ok", (obs.status, obs.reason, obs.value, obs.script)
    return obs.value


def error(obs):
    """The error category of an observation that must be an error."""
    assert obs.status == "error", (obs.status, obs.reason, obs.value)
    assert isinstance(obs.value, ErrorValue)
    return obs.value.category


def na(obs) -> str:
    """The reason of an observation that must be n/a (there must be one)."""
    assert obs.status == "n/a", (obs.status, obs.value)
    assert obs.reason
    return obs.reason


def close(got, want, rtol=1e-5, atol=1e-6):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ---- expectations as data -----------------------------------------------------------------


class _Any:
    def __repr__(self):
        return "ANY"


ANY = _Any()  # a leaf of an expected value that may be anything


@dataclass(frozen=True)
class Value:
    """``ok``, with a value matching ``want`` leaf by leaf: numbers close (same shape),
    ``None`` where no gradient, lists and dicts (same keys; ``partial``: at least these) in
    the observed structure, bools, strings and bytes equal and of their type, a ``Raises``
    leaf an error, ``ANY`` anything. ``dtype``: of every array (or NumPy scalar)."""

    want: Any
    dtype: str | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    partial: bool = False

    def check(self, obs) -> None:
        self.match(ok(obs), self.want, "value")

    def match(self, got, want, where: str) -> None:
        if want is ANY:
            return
        if isinstance(want, Raises):
            assert isinstance(got, ErrorValue), (where, got)
            want.match(got, where)
        elif want is None:
            assert got is None, (where, got)
        elif isinstance(want, dict):
            assert isinstance(got, dict), (where, got)
            if self.partial:
                assert set(want) <= set(got), (where, sorted(got))
            else:
                assert set(want) == set(got), (where, sorted(got))
            for k in want:
                self.match(got[k], want[k], f"{where}[{k!r}]")
        elif isinstance(got, list):
            assert isinstance(want, (list, tuple)) and len(got) == len(want), (where, got, want)
            for k, (g, w) in enumerate(zip(got, want)):
                self.match(g, w, f"{where}[{k}]")
        elif isinstance(want, (bool, str, bytes)):
            assert type(got) is type(want) and got == want, (where, got, want)
        elif isinstance(got, int) and not isinstance(got, bool):  # a count
            assert isinstance(want, int) and got == want, (where, got, want)
        else:  # a NumPy array or scalar
            assert isinstance(got, (np.ndarray, np.generic)), (where, got)
            if self.dtype:
                assert got.dtype == self.dtype, (where, got.dtype)
            try:
                close(got, want, self.rtol, self.atol)
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Raises:
    """``error``, normalised into ``category`` (None: any), of ``type`` and with ``message``
    in its text where given."""

    category: str | None = None
    type: str | None = None
    message: str | None = None

    def check(self, obs) -> None:
        error(obs)
        self.match(obs.value, "error")

    def match(self, value: ErrorValue, where: str) -> None:
        if self.category is not None:
            assert value.category == self.category, (where, value)
        if self.type is not None:
            assert value.type == self.type, (where, value)
        if self.message is not None:
            assert self.message in value.message, (where, value)


@dataclass(frozen=True)
class NA:
    """``n/a``: the framework has no notion of the check; its reason mentions ``about``."""

    about: str

    def check(self, obs) -> None:
        reason = na(obs)
        assert self.about.lower() in reason.lower(), (self.about, reason)


def each(default=None, **frameworks) -> dict:
    """Expectations per column: ``default`` for every framework not named; a framework's
    name, or a column's (``tensorflow_function`` for ``tensorflow[function]``). Without a
    default, only the columns named are asked."""
    row = {"*": default}
    for key, expect in frameworks.items():
        framework, _, mode = key.partition("_")
        row[f"{framework}[{mode}]" if mode else framework] = expect
    return row


def expected(row, column: Column):
    """The expectation of a row (an expectation, or ``each(...)``) for a column; None where
    the row does not ask that column."""
    if not isinstance(row, dict):
        return row
    for key in (column.name, column.framework, "*"):
        if row.get(key) is not None:
            return row[key]
    return None
