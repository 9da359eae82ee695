"""JUnit XML: one testcase per row, failures/errors/skipped as JUnit readers expect."""
import xml.etree.ElementTree as ET
from collections import Counter

from harness.report import merge, write_junit


def junit(docs, tmp_path):
    path = write_junit(docs, tmp_path / "out" / "junit.xml")
    return ET.parse(path).getroot()


def test_valid_xml_and_counts(sample, tmp_path):
    root = junit([sample], tmp_path)
    counts = Counter(r["status"] for r in sample["rows"])
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == len(sample["rows"])
    assert int(root.get("failures")) == counts["fail"] == len(root.findall(".//failure"))
    assert int(root.get("errors")) == counts["error"] == len(root.findall(".//error"))
    skipped = counts["divergence"] + counts["n/a"] + counts["skipped"]
    assert int(root.get("skipped")) == skipped == len(root.findall(".//skipped"))
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == "conformance.tf221"
    assert len(root.findall(".//testcase")) == len(sample["rows"])
    props = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert props["version.tensorflow"] == "2.21.0" and props["python"] == "3.11.7"


def find(root, classname, name):
    return [tc for tc in root.iter("testcase") if tc.get("classname") == classname and tc.get("name") == name]


def test_names_and_time(sample, tmp_path):
    root = junit([sample], tmp_path)
    (tc,) = find(root, "broadcasting.broadcast-grad-large", "grad-x[torch]")
    row = next(r for r in sample["rows"] if r["case"] == "broadcast-grad-large" and r["backend"] == "torch")
    assert float(tc.get("time")) == row["duration_s"]


def test_failure_has_message_and_diff(sample, tmp_path):
    root = junit([sample], tmp_path)
    (tc,) = find(root, "broadcasting.broadcast-grad-large", "grad-x[torch]")
    failure = tc.find("failure")
    assert failure.get("message").startswith("max abs err 0.7 at [13, 7]")
    text = failure.text
    assert "--- expected" in text and "+++ observed" in text
    assert "max abs err 0.7" in text and "at [13, 7] (expected 0.7, observed 1.4)" in text
    assert "repro:" in text and "x.grad[13, 7]" in text
    (tc,) = find(root, "special_values.logsumexp-large", "grad-lse[tensorflow[function]]")
    text = tc.find("failure").text
    assert "expected: [0.5, 0.5]" in text and "observed: [0.5, nan]" in text


def test_error_element(sample, tmp_path):
    root = junit([sample], tmp_path)
    (tc,) = find(root, "tracing.retrace-python-scalar", "trace-count[tensorflow[function]]")
    error = tc.find("error")
    assert error.get("type") == "TypeError"
    assert "Could not build a TypeSpec" in error.get("message")
    assert "\x1b" not in error.text  # terminal escapes stripped: the XML stays valid


def test_divergence_and_skips(sample, tmp_path):
    root = junit([sample], tmp_path)
    (tc,) = find(root, "unconnected_gradients.unconnected-grad-none", "grad-unused[jax]")
    msg = tc.find("skipped").get("message")
    assert msg.startswith("divergence:") and "zero cotangent" in msg and "jax.readthedocs.io" in msg
    (tc,) = find(root, "graph_semantics.second-backward-freed", "second-backward[jax]")
    assert tc.find("skipped").get("message").startswith("n/a:")
    (tc,) = find(root, "checkpoint.checkpoint-resume", "resume-sgd[tensorflow]")
    assert tc.find("skipped").get("message").startswith("skipped:")
    (tc,) = find(root, "kinks.relu-at-zero", "grad-relu[tensorflow]")
    assert tc.find("skipped") is None and tc.find("failure") is None
    assert "stale" in tc.find("system-out").text


def test_classname_without_topic(sample, tmp_path):
    del sample["cases"]["abs-at-zero"]["topic"]
    root = junit([sample], tmp_path)
    assert find(root, "abs-at-zero", "grad-abs[torch]")


def test_several_runs_and_merged(three_runs, tmp_path):
    root = junit(three_runs, tmp_path)
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "conformance.tf221", "conformance.tf218", "conformance.tf216"]
    assert int(root.get("tests")) == sum(len(d["rows"]) for d in three_runs)
    merged = merge(three_runs)
    root = junit([merged], tmp_path)
    assert len(root.findall("testsuite")) == 3
    assert int(root.get("tests")) == len(merged["rows"])
