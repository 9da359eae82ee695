"""Case programs as Python source in a framework's own spelling, for repro scripts.

A backend gives a table from op name to ``format(args, kwargs) -> str`` (its arguments
already rendered); the walk over expressions, indices, loops and statements is shared here.
"""

from __future__ import annotations

from typing import Callable

from harness import expressions as ex

Format = Callable[[list, dict], str]


class Untranslatable(Exception):
    """The check or op has no spelling in the framework: no script, with this reason."""


class SourceWriter:
    def __init__(self, formats: dict[str, Format], host_int: Callable[[str], str] = str,
                 special: Callable[[ex.Call, list, dict], str | None] | None = None,
                 expr: Callable[[object], str] | None = None):
        self.formats = formats
        self.host_int = host_int  # how a host integer name reads where an int is needed
        self.special = special  # a backend's hook for spellings that depend on the operands
        if expr is not None:  # a backend that renders expressions its own way (precedence)
            self.expr = expr

    def expr(self, node) -> str:
        if isinstance(node, ex.Const):
            if isinstance(node.value, (tuple, slice)):
                return self.index(node.value)
            if isinstance(node.value, ex.Name):
                return self.host_int(node.value.id)
            return repr(node.value)
        if isinstance(node, ex.Name):
            return node.id
        if isinstance(node, ex.ListOf):
            return "[" + ", ".join(self.expr(x) for x in node.items) + "]"
        if node.fn == "getitem":
            return f"{self.expr(node.args[0])}[{self.index(node.args[1].value)}]"
        args = [self.expr(a) for a in node.args]
        kwargs = {k: self.expr(v) for k, v in node.kwargs}
        if self.special is not None:
            text = self.special(node, args, kwargs)
            if text is not None:
                return text
        if node.fn in self.formats:
            return self.formats[node.fn](args, kwargs)
        if node.fn in ex_vocabulary():
            raise Untranslatable(node.fn)
        # a function of the case, defined earlier in the script under its own name
        return f"{node.fn}({', '.join(args + [f'{k}={v}' for k, v in kwargs.items()])})"

    def index(self, index) -> str:
        if isinstance(index, tuple):
            return ", ".join(self.index(i) for i in index) or "()"
        if isinstance(index, slice):
            parts = ["" if b is None else str(b) for b in (index.start, index.stop, index.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        if isinstance(index, ex.Name):
            return self.host_int(index.id)
        return repr(index)

    def statements(self, statements, indent: str = "    ", skip=(),
                   after: Callable[[str, str], list] | None = None) -> list[str]:
        """Source lines; an assignment to a name in ``skip`` is shown commented out (the
        name is an argument there); ``after(target, indent)`` adds lines after an
        assignment (a tape watching an intermediate)."""
        out = []
        for s in statements:
            if isinstance(s, ex.Assign):
                line = f"{s.target} = {self.expr(s.value)}"
                out.append(indent + (f"# {line}  ({s.target} is an argument here)"
                                     if s.target in skip else line))
                if after is not None:
                    out += after(s.target, indent)
            elif isinstance(s, ex.Do):
                out.append(indent + self.expr(s.value))
            elif isinstance(s, ex.Loop):
                out.append(f"{indent}for _ in range(int({self.expr(s.count)})):")
                out += self.statements(s.body, indent + "    ", skip, after) \
                    or [indent + "    pass"]
            elif isinstance(s, ex.Return):
                out.append(f"{indent}return {self.expr(s.value)}")
        return out


def ex_vocabulary() -> set[str]:
    from harness.vocabulary import HOST_EFFECTS, OPS
    return set(OPS) | set(HOST_EFFECTS)
