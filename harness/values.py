"""Observed and expected values as plain data, and their JSON form (``docs/results.md``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorValue:
    """An exception, observed: the normalised category plus the framework's own words."""

    category: str
    type: str = ""
    message: str = ""

    def to_json(self) -> dict:
        return {"error": self.category, "type": self.type, "message": self.message[:2000]}


def first_lines(text: str, lines: int = 6, limit: int = 1500) -> str:
    """The first lines of an exception's message: they say what happened; framework
    tracebacks inside messages add noise."""
    return "\n".join(str(text).strip().splitlines()[:lines])[:limit]


def encode(value):
    """A value as JSON-safe data that ``decode`` turns back into the same value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, ErrorValue):
        return value.to_json()
    if isinstance(value, bytes):
        return {"bytes": value.decode("utf-8", "replace")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (int, float, np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype == object:
            return {"array": _objects(array.tolist()), "dtype": "string",
                    "shape": list(array.shape)}
        if array.dtype.kind == "c":  # complex: each entry a pair [re, im]
            pairs = np.stack([array.real, array.imag], axis=-1)
            return {"array": _numbers(pairs.tolist()), "dtype": str(array.dtype),
                    "shape": list(array.shape)}
        return {"array": _numbers(array.tolist()), "dtype": str(array.dtype),
                "shape": list(array.shape)}
    return repr(value)


def _objects(x):
    if isinstance(x, list):
        return [_objects(v) for v in x]
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


def _numbers(x):
    if isinstance(x, list):
        return [_numbers(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def decode(data):
    if isinstance(data, dict):
        if "array" in data and "dtype" in data:
            if data["dtype"] == "string":
                return np.array(_bytes(data["array"]), dtype=object)
            if data["dtype"].startswith("complex"):
                pairs = np.array(_floats(data["array"]), dtype=float)
                return (pairs[..., 0] + 1j * pairs[..., 1]).astype(data["dtype"])
            return np.array(_floats(data["array"]), dtype=data["dtype"])
        if set(data) == {"bytes"}:
            return data["bytes"].encode()
        if "error" in data and set(data) <= {"error", "type", "message"}:
            return ErrorValue(data["error"], data.get("type", ""), data.get("message", ""))
        return {k: decode(v) for k, v in data.items()}
    if isinstance(data, list):
        return [decode(v) for v in data]
    return data


def _bytes(x):
    return [_bytes(v) for v in x] if isinstance(x, list) else str(x).encode()


def _floats(x):
    if isinstance(x, list):
        return [_floats(v) for v in x]
    return float(x) if isinstance(x, str) else x
