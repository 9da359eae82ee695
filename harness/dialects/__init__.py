"""The frameworks, named once: each column's dialect (how its scripts are spelled), the
package its scripts import, and its modes (columns)."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    name: str
    imports: str  # the package its scripts import (checked without importing it)
    modes: tuple[str, ...]  # the first is the default column

    @property
    def module(self) -> str:
        return f"harness.dialects.{self.name}"

    def columns(self) -> list[str]:
        return [self.name if i == 0 else f"{self.name}[{m}]" for i, m in enumerate(self.modes)]


FRAMEWORKS = {f.name: f for f in (
    Framework("reference", "reference_engine", ("eager",)),
    Framework("torch", "torch", ("eager",)),
    Framework("tensorflow", "tensorflow", ("eager", "function")),
    Framework("jax", "jax", ("eager", "jit")),
)}


def installed(framework: str) -> tuple[bool, str]:
    """Whether the framework can be imported, without importing it (and why not)."""
    if framework not in FRAMEWORKS:
        return False, f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}"
    module = FRAMEWORKS[framework].imports
    if importlib.util.find_spec(module) is None:
        return False, f"{module} is not installed (pip install '.[{framework}]')"
    return True, ""


def dialect(framework: str):
    """The framework's dialect (rendering needs no framework: the module imports none)."""
    return importlib.import_module(FRAMEWORKS[framework].module).DIALECT


def split_column(column: str) -> tuple[str, str]:
    """``"jax[jit]"`` -> ``("jax", "jit")``; ``"torch"`` -> ``("torch", "eager")``."""
    if "[" in column:
        name, mode = column.rstrip("]").split("[", 1)
        return name, mode
    return column, FRAMEWORKS[column].modes[0] if column in FRAMEWORKS else "eager"
