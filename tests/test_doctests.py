"""The worked examples in docstrings are run, so they stay true."""
import doctest
import importlib
import pkgutil

import pytest

import pyfuncs


def _with_examples():
    finder = doctest.DocTestFinder()
    out = []
    for m in pkgutil.walk_packages(pyfuncs.__path__, "pyfuncs."):
        mod = importlib.import_module(m.name)
        if any(t.examples for t in finder.find(mod)):
            out.append(m.name)
    return out


MODULES = _with_examples()


def test_the_core_and_udfs_carry_examples():
    assert {"pyfuncs.core.dates", "pyfuncs.core.warranty", "pyfuncs.core.clock", "pyfuncs.core.calendar",
            "pyfuncs.core.callbacks", "pyfuncs.core.settings", "pyfuncs.udfs"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
