"""The worked examples in the core's and the UDFs' docstrings are run, so they stay true."""
import doctest
import importlib
import pkgutil

import pytest

import pyfuncs.core

MODULES = [f"pyfuncs.core.{m.name}" for m in pkgutil.iter_modules(pyfuncs.core.__path__)] + ["pyfuncs.udfs"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
