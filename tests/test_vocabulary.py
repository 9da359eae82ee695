"""Every backend maps every op of the vocabulary, or declares that it lacks it and why."""

import pytest

from harness.backends import FRAMEWORKS, backend_class, installed
from harness.vocabulary import OPS


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_each_backend_maps_every_op_or_says_why_not(framework):
    ok, why = installed(framework)
    if not ok:
        pytest.skip(why)
    cls = backend_class(framework)
    unmapped = [op for op in OPS if op not in cls.OPS and op not in cls.LACKS]
    assert not unmapped, f"{framework} neither maps nor declares: {unmapped}"
    assert all(reason for reason in cls.LACKS.values())
    extra = set(cls.OPS) - set(OPS)
    assert not extra, f"{framework} maps ops outside the vocabulary: {extra}"


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_backend_modes_match_the_registry(framework):
    ok, why = installed(framework)
    if not ok:
        pytest.skip(why)
    assert backend_class(framework).modes == FRAMEWORKS[framework].modes
