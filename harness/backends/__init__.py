"""The backends: one module per framework, imported only by the worker that runs it."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    name: str
    module: str  # the backend module
    imports: str  # the framework's import name
    modes: tuple[str, ...]  # the first is the default column

    def columns(self) -> list[str]:
        return [self.name if i == 0 else f"{self.name}[{m}]" for i, m in enumerate(self.modes)]


FRAMEWORKS = {f.name: f for f in (
    Framework("reference", "harness.backends.reference", "reference_engine", ("eager",)),
    Framework("torch", "harness.backends.torch", "torch", ("eager",)),
    Framework("tensorflow", "harness.backends.tensorflow", "tensorflow", ("eager", "function")),
    Framework("jax", "harness.backends.jax", "jax", ("eager", "jit")),
)}


def installed(framework: str) -> tuple[bool, str]:
    """Whether the framework can be imported, without importing it (and why not)."""
    if framework not in FRAMEWORKS:
        return False, f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}"
    module = FRAMEWORKS[framework].imports
    if importlib.util.find_spec(module) is None:
        return False, f"{module} is not installed (pip install '.[{framework}]')"
    return True, ""


def backend_class(framework: str):
    """The backend class (this imports the framework: call it in a worker)."""
    return importlib.import_module(FRAMEWORKS[framework].module).BACKEND


def split_column(column: str) -> tuple[str, str]:
    """``"jax[jit]"`` -> ``("jax", "jit")``; ``"torch"`` -> ``("torch", "eager")``."""
    if "[" in column:
        name, mode = column.rstrip("]").split("[", 1)
        return name, mode
    return column, FRAMEWORKS[column].modes[0] if column in FRAMEWORKS else "eager"
