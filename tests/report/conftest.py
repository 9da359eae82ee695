"""Fixtures for the report tests: the sample results documents in tests/report/data."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sample_results.json"
SAMPLE_218 = DATA / "sample_results_tf218.json"
SAMPLE_216 = DATA / "sample_results_tf216.json"


@pytest.fixture(scope="session")
def _sample_docs():
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (SAMPLE, SAMPLE_218, SAMPLE_216)}


@pytest.fixture
def sample(_sample_docs):
    """The tf221 run (a fresh copy each test may change)."""
    return copy.deepcopy(_sample_docs[SAMPLE.name])


@pytest.fixture
def three_runs(_sample_docs):
    """tf221, tf218 and tf216 runs of the same cases."""
    return [copy.deepcopy(_sample_docs[p.name]) for p in (SAMPLE, SAMPLE_218, SAMPLE_216)]
