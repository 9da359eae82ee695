"""What the backend test modules share: writing an inline case, reading observations."""

import textwrap

import numpy as np

from harness.cases import load_file
from harness.values import ErrorValue


def load_cases(tmp_path, text):
    """The cases of an inline YAML text (dedented), which must be valid."""
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    loaded = load_file(path)
    assert not loaded.errors, loaded.errors
    return loaded.cases


def ok(obs):
    assert obs.status == "ok", (obs.status, obs.reason, obs.value)
    return obs.value


def error(obs):
    """The error category of an observation that must be an error."""
    assert obs.status == "error", (obs.status, obs.value)
    assert isinstance(obs.value, ErrorValue)
    return obs.value.category


def close(got, want, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=atol)
