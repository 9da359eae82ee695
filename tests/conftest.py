import textwrap

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def write_case(tmp_path):
    """Write a YAML case file from an indented string; returns its path."""
    def write(text: str, name: str = "cases.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path
    return write


# tests/corpus holds malformed case files for tests/test_corpus.py, not cases to collect
collect_ignore = ["corpus"]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (every row's script, ...)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
