"""Migration: the old execution path (backends driving the shared interpreter) and the new
one (a dialect's script) observe exactly the same thing on every check of cases/.

This test exists while both paths do; the commit after it deletes the old path.
"""

import json

import pytest

from harness.cases import load_paths
from harness.values import encode

# Where the script is right and the interpreter was not, or nothing can be the same.
KNOWN = {
    # A traced function returning Python values: the interpreter turned Python arithmetic
    # into engine tensors (float32, bytes arrays); a script leaves Python values as Python's.
    ("retracing-per-signature", "string-tensors-and-python-strings", "reference"),
    ("retracing-per-signature", "numbers", "reference"),
    # Unseeded framework generators: scripts now seed them (the same numbers on every run).
    ("host-randomness-is-frozen", "framework-random", "reference"),
    ("host-randomness-is-frozen", "framework-random", "torch"),
    ("host-randomness-is-frozen", "framework-random", "tensorflow"),
    ("host-randomness-is-frozen", "framework-random", "tensorflow[function]"),
}


@pytest.mark.parametrize("framework", ["reference", "torch", "tensorflow", "jax"])
def test_both_paths_observe_the_same(framework):
    pytest.importorskip({"reference": "reference_engine"}.get(framework, framework))
    from harness.backends import backend_class
    from harness.dialects import dialect
    from harness.execute import observe_check as old_observe
    from harness.scripts import observe_check

    spelling, cls = dialect(framework), backend_class(framework)
    differ = []
    for case in load_paths(["cases"]).cases:
        for cid, check in zip(case.check_ids, case.checks):
            for mode in spelling.modes:
                column = spelling.column(mode)
                if (case.id, cid, column) in KNOWN:
                    continue
                old = old_observe(case, check, cls(mode))
                new = observe_check(case, check, cid, spelling, mode)
                a = old.status, json.dumps(encode(old.value), sort_keys=True, default=repr)
                b = new.status, json.dumps(encode(new.value), sort_keys=True, default=repr)
                if a != b:
                    differ.append((case.id, cid, column, a, b))
    assert not differ
