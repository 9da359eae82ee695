"""The cases cover every example of the seed documents' catalogue."""

import re
from pathlib import Path

import pytest

from harness.cases import load_paths

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT.parent / "shared" / "seed-examples.md"


def catalogue_ids() -> set[str]:
    return set(re.findall(r"^\| (S\d{3}-\d{2}) ", CATALOGUE.read_text(), re.M))


@pytest.mark.skipif(not CATALOGUE.exists(), reason="../shared/seed-examples.md is not here")
def test_every_catalogue_id_is_covered_by_a_case():
    loaded = load_paths([ROOT / "cases"])
    covered = {i for case in loaded.cases for i in case.covers}
    missing = sorted(catalogue_ids() - covered)
    assert not missing, f"not covered by any case: {missing}"


@pytest.mark.skipif(not CATALOGUE.exists(), reason="../shared/seed-examples.md is not here")
def test_cases_cover_only_ids_of_the_catalogue():
    loaded = load_paths([ROOT / "cases"])
    unknown = {i for case in loaded.cases for i in case.covers} - catalogue_ids()
    assert not unknown


def test_every_case_file_is_valid():
    loaded = load_paths([ROOT / "cases"])
    assert not loaded.errors, "\n".join(str(e) for e in loaded.errors)


def test_every_divergence_has_a_reason_and_evidence():
    loaded = load_paths([ROOT / "cases"])
    for case in loaded.cases:
        for check in case.checks:
            for key, decls in check.diverges.items():
                for d in decls if isinstance(decls, list) else [decls]:
                    assert len(d.reason) > 10 and d.evidence, (case.id, key)
