"""The UDFs as Excel will see them: xlwings' real decorators and its VBA wrapper generator.

On Linux ``xw.func`` is a no-op, so :mod:`pyfuncs.build_udfs` imports ``xlwings.udfs`` behind
stand-in pywin32 modules and re-executes :mod:`pyfuncs.udfs` under the real decorators; this is
also what the workbook build embeds as the ``xlwings_udfs`` module.
"""
import inspect
import re

import pytest

import pyfuncs.udfs as udfs
from pyfuncs.build_udfs import udf_functions, udf_wrapper_vba

#: The arguments staff type, in order (the VBA wrapper's signature).
EXPECTED = {
    "AC_WARRANTY_END": ["start", "part", "term", "city", "design_life"],
    "AC_WARRANTY_STATUS": ["expiry", "as_of", "warn_days"],
    "AC_REPAIR_DUE": ["notice", "urgency", "days"],
    "AC_OVERDUE_DAYS": ["due", "arrival", "as_of", "done", "accepted", "state", "in_warranty"],
    "AC_NEXT_WORKDAY": ["when"],
    "AC_IS_WORKDAY": ["when"],
    "AC_CALLBACKS": ["start", "parts", "size", "year", "four_new", "city"],
}
#: Arguments the VBA wrapper fills in itself (``vba=``), after the visible ones.
HIDDEN = {name: ["stamp"] for name in EXPECTED} | {"AC_CALLBACKS": ["stamp", "area"]}
REQUIRED = {"AC_WARRANTY_END": 2, "AC_WARRANTY_STATUS": 1, "AC_REPAIR_DUE": 1, "AC_OVERDUE_DAYS": 1,
            "AC_NEXT_WORKDAY": 1, "AC_IS_WORKDAY": 1, "AC_CALLBACKS": 1}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def functions():
    return udf_functions("pyfuncs.udfs")


def test_every_udf_is_registered_under_its_python_name(functions):
    assert set(functions) == set(EXPECTED)
    for name, f in functions.items():
        assert f.__name__ == name
        assert f.__xlfunc__["name"] == name


def test_arguments_optional_ones_and_chinese_help(functions):
    for name, f in functions.items():
        info = f.__xlfunc__
        assert [a["name"] for a in info["args"]] == EXPECTED[name] + HIDDEN[name]
        visible = [a for a in info["args"] if not a["vba"]]
        assert [a["name"] for a in visible] == EXPECTED[name]
        optional = [a["name"] for a in visible if "optional" in a]
        assert len(visible) - len(optional) == REQUIRED[name], name
        for a in visible:
            assert CJK.search(a["doc"]), f"{name}.{a['name']} has no Chinese help: {a['doc']!r}"
            assert len(a["doc"]) <= 255
            # an error cell (#N/A, #DIV/0!...) must arrive as its text, not as an empty cell
            assert a["options"].get("err_to_str") is True, (name, a["name"])
        assert [a["vba"] for a in info["args"] if a["vba"]] == [udfs.HIDDEN_ARGS[h] for h in HIDDEN[name]]
        assert CJK.search(info["ret"]["doc"]) and len(info["ret"]["doc"]) <= 255
        assert info["category"] == "回访保修"
        assert not info["volatile"]


def test_range_arguments_arrive_as_2d_so_shapes_round_trip(functions):
    for name in ("AC_WARRANTY_END", "AC_REPAIR_DUE", "AC_OVERDUE_DAYS", "AC_WARRANTY_STATUS", "AC_IS_WORKDAY",
                 "AC_NEXT_WORKDAY"):
        for a in functions[name].__xlfunc__["args"]:
            if not a["vba"]:
                assert a["options"].get("ndim") == 2, (name, a["name"])
    # a native dynamic array, not xlwings' legacy array-formula resizing (which overwrites cells)
    for f in functions.values():
        assert "expand" not in f.__xlfunc__["ret"]["options"]


def test_decorated_functions_compute_like_the_plain_ones(functions):
    assert functions["AC_REPAIR_DUE"]("2026-09-28") == udfs.AC_REPAIR_DUE("2026-09-28")
    assert functions["AC_WARRANTY_END"]([["2024-02-29"]], [["屋面防水"]]) == [[udfs.AC_WARRANTY_END("2024-02-29", "屋面防水")]]


def test_vba_wrapper_has_one_function_per_udf_with_its_signature():
    vba = udf_wrapper_vba("pyfuncs.udfs")
    assert vba.startswith('Attribute VB_Name = "xlwings_udfs"')
    for name, args in EXPECTED.items():
        required = args[: REQUIRED[name]]
        optional = args[REQUIRED[name]:]
        sig = ", ".join(required + [f"Optional {a}" for a in optional])
        assert f"Function {name}({sig})" in vba, name
        passed = args + [udfs.HIDDEN_ARGS[h] for h in HIDDEN[name]]
        assert f'{name} = XLPy.CallUDF("pyfuncs.udfs", "{name}", Array({", ".join(passed)}), ThisWorkbook, Application.Caller)' in vba
    assert vba.count("End Function") == len(EXPECTED)
    assert "\r\n" in vba and "\n" not in vba.replace("\r\n", "")


def test_plain_module_on_linux_has_no_xlwings_metadata():
    # the shim leaves nothing behind: the imported module's functions stay plain
    assert not hasattr(udfs.AC_REPAIR_DUE, "__xlfunc__")
    assert inspect.signature(udfs.AC_CALLBACKS).parameters["year"].default is None
    assert list(udfs.ARG_HELP) == sorted(EXPECTED, key=list(udfs.ARG_HELP).index)
    assert {n: list(h) for n, h in udfs.ARG_HELP.items()} == EXPECTED
