"""The worksheet functions through xlwings' real Windows UDF code (0.37.8), as Excel calls them.

tests/_xlwings_windows.py imports ``xlwings._xlwindows``, ``xlwings.udfs`` and
``xlwings.com_server`` behind stand-in pywin32 modules; the cells are fake COM ranges whose
``Value`` is what pywin32 hands Python. So these run xlwings' own argument handling and
converters: an error cell (COM gives its integer code) reaches the function as its text only
because of ``err_to_str``; the hidden stamp reaches the function and selects the workbook's
cached tables; AC_CALLBACKS' table goes back as a plain 2-D array (Excel 365 spills it) without
xlwings' legacy array-formula resizing touching the calling cell.
"""
from __future__ import annotations

import datetime as dt
import sys

import pytest

from _xlwings_windows import MISSING, FakeRange, windows_xlwings
from pyfuncs import udf_tables
from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.settings import Settings

UTC = dt.timezone.utc
NA, DIV0 = -2146826246, -2146826281  # #N/A and #DIV/0! as COM hands them over


@pytest.fixture(scope="module")
def xl():
    with windows_xlwings() as x:
        yield x


def test_without_err_to_str_xlwings_turns_an_error_cell_into_an_empty_value(xl):
    """The reason for the option: xlwings' default cleaning maps Excel's error codes to None."""
    from xlwings import conversion

    assert conversion.read(None, NA, {"ndim": 2}) == [[None]]
    assert conversion.read(None, NA, {"ndim": 2, "err_to_str": True}) == [["#N/A"]]


def test_an_error_cell_comes_back_as_a_text_naming_it(xl):
    assert xl.call("AC_WARRANTY_END", [FakeRange(NA), "屋面防水", MISSING, MISSING, MISSING, None]) == \
        "#N/A（起算日期为错误值）"
    assert xl.call("AC_REPAIR_DUE", [dt.datetime(2026, 9, 28), MISSING, FakeRange(DIV0), None]) == \
        "#DIV/0!（约定到场天数为错误值）"
    # an error value typed straight into the formula (=AC_IS_WORKDAY(NA())) arrives as the code
    assert xl.call("AC_IS_WORKDAY", [NA, None]) == "#N/A（日期为错误值）"


def test_in_a_block_only_the_error_cells_say_so(xl):
    block = FakeRange(((dt.datetime(2024, 6, 30),), (DIV0,), ("2024-13-01",)))
    out = xl.call("AC_WARRANTY_END", [block, "电气管线", MISSING, MISSING, MISSING, None])
    assert out == [[dt.datetime(2026, 6, 30, tzinfo=UTC)], ["#DIV/0!（起算日期为错误值）"], ["#日期无效: 2024-13-01"]]
    assert block.reads.count("FakeRange.Value") == 1  # one read for the whole block


def test_a_good_call_and_omitted_optional_arguments(xl):
    assert xl.call("AC_WARRANTY_END", [FakeRange(dt.datetime(2024, 2, 29)), "屋面防水", MISSING, MISSING, MISSING,
                                       None]) == dt.datetime(2029, 2, 28, tzinfo=UTC)
    assert xl.call("AC_OVERDUE_DAYS", [dt.datetime(2026, 10, 8), dt.datetime(2026, 10, 10), MISSING, MISSING,
                                       MISSING, MISSING, MISSING, None]) == 2


def test_the_stamp_selects_the_workbooks_cached_tables(xl, monkeypatch):
    tables = udf_tables.Tables(Settings(clock_days=3), WorkCalendar({dt.date(2026, 12, 4): False}))
    monkeypatch.setattr(udf_tables, "read_tables", lambda book: tables)
    udf_tables.forget()
    udf_tables.tables_for("D:\\回访\\aftercare.xlsm|46000.5", lambda: object())
    caller = FakeRange(None)
    notice = FakeRange(dt.datetime(2026, 12, 1))
    due = xl.call("AC_REPAIR_DUE", [notice, MISSING, MISSING, "D:\\回访\\aftercare.xlsm|46000.5"], caller=caller)
    assert due == dt.datetime(2026, 12, 7, tzinfo=UTC)  # 3 days, 12-04 closed: the workbook's tables
    assert xl.call("AC_REPAIR_DUE", [notice, MISSING, MISSING, None]) == dt.datetime(2026, 12, 8, tzinfo=UTC)
    assert caller.reads == []  # the function needed nothing from Excel beyond its arguments
    udf_tables.forget()


def test_callbacks_return_a_plain_2d_array_and_never_touch_the_calling_cell(xl):
    caller = FakeRange(None)
    out = xl.call("AC_CALLBACKS", [dt.datetime(2025, 6, 30), MISSING, "大型", 2026.0, MISSING, "北京", None, "1,1,1"],
                  caller=caller)
    assert out[0] == ["回访日期", "回访类型", "涉及部位", "回访事由及说明"]
    assert [r[0] for r in out[1:]] == [dt.datetime(2026, 4, 15, tzinfo=UTC), dt.datetime(2026, 5, 15, tzinfo=UTC),
                                       dt.datetime(2026, 6, 30, tzinfo=UTC), dt.datetime(2026, 10, 15, tzinfo=UTC)]
    # expand="table" would have read the caller's size and resized it into an array formula
    assert caller.reads == []
    assert not xl.udfs.cache


def test_callbacks_in_one_cell_of_excel_2016_give_one_text(xl):
    out = xl.call("AC_CALLBACKS", [dt.datetime(2025, 6, 30), MISSING, "大型", 2026.0, MISSING, "北京", None, "1,1,0"])
    assert out.startswith("2026-04-15 季节性回访（供冷系统）；2026-05-15 季节性回访")


def test_the_harness_leaves_nothing_behind():
    import xlwings

    engines = [e.name for e in xlwings.engines]
    before = set(sys.modules)
    with windows_xlwings():
        assert "excel" in [e.name for e in xlwings.engines]
        assert "pywintypes" in sys.modules and "xlwings._xlwindows" in sys.modules
    assert [e.name for e in xlwings.engines] == engines
    left = set(sys.modules) - before
    assert not {n for n in left if n.startswith(("xlwings", "win32", "pywintypes", "pythoncom"))}, left
