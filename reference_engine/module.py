"""Module: a container of Variables (tf.Module), saved as .npz plus a JSON manifest.

Variables are found by walking the module's attributes (and lists, tuples, dicts
and sub-modules in them), so assigning ``self.w = Variable(...)`` registers ``w``.
"""
import contextlib
import json
import os
import re

import numpy as np

from .tape import Variable

FORMAT = "reference_engine.Module/1"


class Module:
    def __init__(self, name=None):
        self._name = name

    @property
    def name(self):
        return getattr(self, "_name", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    @property
    def name_scope(self):
        return contextlib.nullcontext()  # names are attribute paths here; kept so TF code reads the same

    def named_variables(self):
        """(path, variable) pairs, e.g. ("layers/0/w", v), each variable once."""
        seen, found = set(), []

        def walk(value, path):
            if isinstance(value, Variable):
                if id(value) not in seen:
                    seen.add(id(value))
                    found.append((path, value))
            elif isinstance(value, Module):
                for key, item in vars(value).items():
                    if not key.startswith("_"):
                        walk(item, f"{path}/{key}" if path else key)
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    walk(item, f"{path}/{i}")
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, f"{path}/{key}")
        walk(self, "")
        return found

    @property
    def variables(self):
        return tuple(v for _, v in self.named_variables())

    @property
    def trainable_variables(self):
        return tuple(v for v in self.variables if v.trainable)

    @property
    def submodules(self):
        return tuple(m for m in vars(self).values() if isinstance(m, Module))

    def save(self, path):
        """Write ``path/variables.npz`` (the values) and ``path/manifest.json`` (what they are)."""
        os.makedirs(path, exist_ok=True)
        named = self.named_variables()
        np.savez(os.path.join(path, "variables.npz"), **{p: v.data for p, v in named})
        manifest = {"format": FORMAT, "class": type(self).__name__,
                    "variables": [{"path": p, "name": v.name, "dtype": v.data.dtype.str,
                                   "shape": list(v.data.shape), "trainable": v.trainable} for p, v in named]}
        with open(os.path.join(path, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)

    def load(self, path):
        """Assign the saved values to this module's variables of the same paths; returns self."""
        with open(os.path.join(path, "manifest.json")) as f:
            manifest = json.load(f)
        mine = dict(self.named_variables())
        with np.load(os.path.join(path, "variables.npz")) as values:
            for entry in manifest["variables"]:
                var = mine.get(entry["path"])
                if var is None:
                    raise KeyError(f"{type(self).__name__} has no variable at {entry['path']!r}")
                if list(var.data.shape) != entry["shape"]:
                    raise ValueError(f"{entry['path']}: saved shape {entry['shape']}, "
                                     f"the module's is {list(var.data.shape)}")
                var.assign(values[entry["path"]])
        return self
