"""The limits that keep hostile or mistaken input from hanging a run or taking a machine down.

Validation enforces the static ones (file size, YAML expansion, input elements, loop
counts); the runner enforces time and memory per case and framework worker. A case may
raise the ones that concern it, with a reason (``limits:`` in ``docs/case-language.md``).
"""

from __future__ import annotations

import os

# A case file: its size in bytes, and the YAML nodes it may expand to (an alias repeats the
# node it names; nine nested levels of `&a [*a, *a, ...]` would make 10^9 of them).
MAX_FILE_BYTES = 1 << 20
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 64

# Iterations of `for _ in range(n)` (nested loops multiply) and optimizer steps.
MAX_LOOP_STEPS = 100_000

# Integer constants beyond int64 cannot be tensors on any framework; a float constant
# expression that overflows (10.0 ** 10 ** 10) is a mistake, not a test.
MAX_INT = 2 ** 63 - 1

# The elements of one input (or a `shape=` the program asks for): 10^7 float32 is 40 MB.
DEFAULT_MAX_ELEMENTS = 10 ** 7
ELEMENTS_ENV = "CONFORMANCE_MAX_ELEMENTS"

# Per case and framework worker (all of its columns): seconds, and resident memory. The
# slowest seed case takes 37 s (dynamic-net on TensorFlow, all four frameworks at once on two
# cores); with the machine busy with other work, 120 s was not enough for himmelblau-adam.
# The largest worker's resident memory peaked at 0.8 GiB (TensorFlow, the whole suite).
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 4096


def max_elements() -> int:
    """The element limit: ``CONFORMANCE_MAX_ELEMENTS`` (the CLI's ``--max-elements`` sets it,
    so that the worker processes, which load the cases again, apply the same limit)."""
    text = os.environ.get(ELEMENTS_ENV)
    try:
        return int(float(text)) if text else DEFAULT_MAX_ELEMENTS
    except ValueError:
        return DEFAULT_MAX_ELEMENTS
