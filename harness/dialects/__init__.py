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
    # Set where a mode is fixed when the framework is imported (Keras: KERAS_BACKEND): every
    # column is bracketed (no bare column), and each mode runs in its own worker, started
    # with this environment variable set to the mode.
    mode_env: str | None = None
    # Run unless --frameworks says otherwise (a framework that is not installed is skipped).
    default: bool = True

    @property
    def module(self) -> str:
        return f"harness.dialects.{self.name}"

    def columns(self) -> list[str]:
        return [self.name if i == 0 and not self.mode_env else f"{self.name}[{m}]"
                for i, m in enumerate(self.modes)]

    def workers(self) -> list[tuple[str, str | None]]:
        """``(key, mode)`` per worker process: one for the framework (mode None: it runs
        every mode), or, with ``mode_env``, one per mode, keyed by its column."""
        if self.mode_env:
            return [(f"{self.name}[{m}]", m) for m in self.modes]
        return [(self.name, None)]

    def worker_columns(self, mode: str | None) -> list[str]:
        """The columns the worker for ``mode`` (None: all modes) observes."""
        return self.columns() if mode is None else [f"{self.name}[{mode}]"]


FRAMEWORKS = {f.name: f for f in (
    Framework("reference", "reference_engine", ("eager",)),
    Framework("torch", "torch", ("eager",)),
    Framework("tensorflow", "tensorflow", ("eager", "function")),
    Framework("jax", "jax", ("eager", "jit")),
    Framework("keras", "keras", ("tensorflow", "jax", "torch"), mode_env="KERAS_BACKEND"),
)}
DEFAULT_FRAMEWORKS = [name for name, f in FRAMEWORKS.items() if f.default]


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
