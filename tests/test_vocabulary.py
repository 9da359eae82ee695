"""Every dialect spells every op of the vocabulary, or declares that it lacks it and why.

Dialect modules import no framework: these tests need none installed."""

import pytest

from harness.dialects import FRAMEWORKS, dialect
from harness.vocabulary import OPS

# what each framework cannot spell, and a word its reason must give
LACKS = {
    "reference": {},
    "torch": {"string_join": "string"},
    "tensorflow": {},
    "jax": {"string_join": "string", "assign_add": "variables", "assign_sub": "variables",
            "new_variable": "variables"},
    # keras.ops: what it does not offer (every reason names Keras or keras.ops)
    "keras": {op: "eras" for op in (
        "string_join", "lgamma", "digamma", "xlogy", "conv_transpose2d", "assign_add", "assign_sub",
        "new_variable")},
}


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_each_dialect_maps_every_op_or_says_why_not(framework):
    d = dialect(framework)
    unmapped = [op for op in OPS if op not in d.OPS and op not in d.LACKS]
    assert not unmapped, f"{framework} neither maps nor declares: {unmapped}"
    assert not set(d.OPS) & set(d.LACKS), "an op both mapped and lacking"
    extra = set(d.OPS) - set(OPS)
    assert not extra, f"{framework} maps ops outside the vocabulary: {extra}"


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_what_each_dialect_lacks_and_why(framework):
    lacks = dialect(framework).LACKS
    assert set(lacks) == set(LACKS[framework])
    for op, word in LACKS[framework].items():
        assert word in lacks[op], (op, lacks[op])


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_dialect_name_and_modes_match_the_registry(framework):
    d = dialect(framework)
    assert d.name == framework
    assert d.modes == FRAMEWORKS[framework].modes
    assert [d.column(m) for m in d.modes] == FRAMEWORKS[framework].columns()
