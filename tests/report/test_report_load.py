"""load_results: reading and checking results documents."""
import json
from pathlib import Path

import pytest

from harness.report import ResultsError, load_results

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_results.json"


def test_loads_one_or_many():
    assert len(load_results(SAMPLE)) == 1
    docs = load_results([SAMPLE, str(SAMPLE)])
    assert len(docs) == 2 and docs[0]["schema_version"] == 1


def test_missing_file_named(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(ResultsError, match="nope.json: no such file"):
        load_results([path])


def test_bad_json_named_with_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"schema_version": 1,\n "rows": [}', encoding="utf-8")
    with pytest.raises(ResultsError, match=r"broken.json: not valid JSON \(line 2"):
        load_results([path])


@pytest.mark.parametrize("doc, message", [
    ([], "not a results document"),
    ({"rows": []}, "no 'schema_version'"),
    ({"schema_version": 2, "rows": []}, "unsupported schema_version 2"),
    ({"schema_version": 1, "rows": {}}, "'rows' must be a list"),
    ({"schema_version": 1, "rows": [{"case": "a"}]}, r"rows\[0\] lacks check, backend, status"),
    ({"schema_version": 1, "rows": [], "cases": []}, "'cases' must be an object"),
])
def test_unsupported_documents(tmp_path, doc, message):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ResultsError, match=message) as info:
        load_results([path])
    assert "doc.json" in str(info.value)


def test_no_paths():
    with pytest.raises(ResultsError):
        load_results([])


def test_directory(tmp_path):
    with pytest.raises(ResultsError, match="directory"):
        load_results([tmp_path])
