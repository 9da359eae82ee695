"""Nested structures (lists, tuples, dicts) of tensors: flatten them and build them back."""


def flatten(structure):
    """The leaves of ``structure``, depth first (dicts in insertion order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    return [structure]


def unflatten(structure, leaves):
    """``structure`` with its leaves replaced, in order, by ``leaves``."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, (list, tuple)):
            return type(s)(build(item) for item in s)
        if isinstance(s, dict):
            return {key: build(value) for key, value in s.items()}
        return next(it)
    return build(structure)
