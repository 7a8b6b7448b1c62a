"""The worksheet functions as staff call them: single cells, ranges, bad cells (issue 2's contract)."""
import datetime as dt

import pytest

from pyfuncs.core.dates import to_serial
from pyfuncs.udfs import (
    AC_CALLBACKS, AC_IS_WORKDAY, AC_NEXT_WORKDAY, AC_OVERDUE_DAYS, AC_REPAIR_DUE, AC_WARRANTY_END,
    AC_WARRANTY_STATUS,
)

DT = dt.datetime


def test_warranty_end_single_cell_all_input_forms():
    for start in (DT(2024, 2, 29), dt.date(2024, 2, 29), float(to_serial(dt.date(2024, 2, 29))), "2024/2/29",
                  "2024年2月29日", "２０２４．２．２９"):
        assert AC_WARRANTY_END(start, "屋面防水") == DT(2029, 2, 28)


def test_warranty_end_optional_arguments():
    assert AC_WARRANTY_END("2024-06-30", "屋面防水", "8年") == DT(2032, 6, 30)
    assert AC_WARRANTY_END("2024-06-30", "供热系统", None, "太原") == DT(2026, 3, 31)
    assert AC_WARRANTY_END("2024-06-30", "地基基础和主体结构", None, None, 70) == DT(2094, 6, 30)
    # shorter than the floor: the floor (the note is on the sheet's 提示 column, not in a UDF)
    assert AC_WARRANTY_END("2024-06-30", "屋面防水", "2年") == DT(2029, 6, 30)


def test_a_column_range_returns_the_same_shape_with_errors_only_in_bad_cells():
    out = AC_WARRANTY_END([["2024-06-30"], ["2024-13-01"], [None], ["2024-06-30"]],
                          [["电气管线"], ["电气管线"], ["电气管线"], ["屋顶"]])
    assert out == [[DT(2026, 6, 30)], ["#日期无效: 2024-13-01"], [None], ["#保修部位无效: 屋顶"]]


def test_a_row_and_a_block_broadcast_against_a_single_cell():
    assert AC_WARRANTY_END(["2024-06-30", "2023-01-31"], "装修工程") == [DT(2026, 6, 30), DT(2025, 1, 31)]
    block = AC_WARRANTY_END([["2024-06-30", "2024-06-30"]], [["屋面防水"], ["电气管线"]])
    assert block == [[DT(2029, 6, 30), DT(2029, 6, 30)], [DT(2026, 6, 30), DT(2026, 6, 30)]]


def test_mismatched_ranges_give_one_clear_error():
    assert AC_WARRANTY_END([1, 2, 3], ["屋面防水", "防渗漏"]) == "#参数区域大小不一致"


def test_bad_term_text():
    assert AC_WARRANTY_END("2024-06-30", "屋面防水", "很多年").startswith("#保修期无效: 很多年")


def test_status():
    assert AC_WARRANTY_STATUS("2026-12-31", "2026-11-21") == "即将到期"
    assert AC_WARRANTY_STATUS("2026-12-31", "2026-11-21", 30) == "保修中"
    assert AC_WARRANTY_STATUS("2026-11-20", "2026-11-21") == "已过保"
    assert AC_WARRANTY_STATUS([["2030-01-01"], ["x"], [None]], "2026-11-21") == [["保修中"], ["#日期无效: x"], ["#缺少到期日期"]]
    assert AC_WARRANTY_STATUS("2026-12-31", "2026-11-21", -1) == "#提醒天数无效: -1"
    # as_of defaults to today
    today = dt.date.today()
    assert AC_WARRANTY_STATUS(today - dt.timedelta(days=1)) == "已过保"
    assert AC_WARRANTY_STATUS(today) == "即将到期"


def test_repair_due():
    assert AC_REPAIR_DUE("2026-09-28") == DT(2026, 10, 8)
    assert AC_REPAIR_DUE("2026-09-28", "紧急") == DT(2026, 9, 29)
    assert AC_REPAIR_DUE("2026-09-30", "涉及结构安全") == DT(2026, 10, 1)
    assert AC_REPAIR_DUE("2026-11-02", "一般", 3) == DT(2026, 11, 5)
    assert AC_REPAIR_DUE([["2026-09-28", "2026-09-28"]], [["一般", "特急"]]) == [[DT(2026, 10, 8), "#紧急程度无效: 特急（应为 一般、紧急 或 涉及结构安全）"]]
    assert AC_REPAIR_DUE(None) == "#缺少报修日期"


def test_overdue_days():
    assert AC_OVERDUE_DAYS("2026-10-08", "2026-10-10") == 2
    assert AC_OVERDUE_DAYS("2026-10-08", "2026-10-01") == 0
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20") == 12
    assert AC_OVERDUE_DAYS([["2026-10-08"], ["坏"]], None, "2026-10-20") == [[12], ["#日期无效: 坏"]]
    assert isinstance(AC_OVERDUE_DAYS("2026-10-08", "2026-10-10"), int)


def test_workdays():
    assert AC_IS_WORKDAY("2026-10-10") is True
    assert AC_IS_WORKDAY("2026-10-05") is False
    assert AC_NEXT_WORKDAY("2026-10-05") == DT(2026, 10, 8)
    assert AC_NEXT_WORKDAY(to_serial(dt.date(2026, 10, 9))) == DT(2026, 10, 9)
    assert AC_IS_WORKDAY([["2026-10-10", "x"]]) == [[True, "#日期无效: x"]]


def test_callbacks_spills_a_table():
    out = AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京")
    assert out[0] == ["回访日期", "回访类型", "涉及部位", "回访事由及说明"]
    rows = out[1:]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert [r[0].date() for r in rows] == [dt.date(2026, 4, 15), dt.date(2026, 5, 15), dt.date(2026, 6, 30), dt.date(2026, 10, 15)]
    assert rows[1][2] == "屋面防水、防渗漏"


def test_callbacks_parts_and_four_new():
    only_roof = AC_CALLBACKS("2025-06-30", ["屋面防水"], "大型", 2026)
    assert {r[2] for r in only_roof[1:]} == {"屋面防水"}
    text = AC_CALLBACKS("2025-06-30", "屋面防水、供热系统", "大型", 2026)
    assert {r[2] for r in text[1:]} <= {"屋面防水", "供热系统", "屋面防水、供热系统"}
    tech = AC_CALLBACKS("2024-06-30", None, "大型", 2026, "是")
    assert any("技术性回访" in r[1] for r in tech[1:])
    named = AC_CALLBACKS("2024-06-30", None, "大型", 2026, "BIM技术应用")
    assert [r[:3] for r in named] == [r[:3] for r in tech]
    assert any("四新技术（BIM技术应用）应用情况回访" in r[3] for r in named[1:])


@pytest.mark.parametrize("args, message", [
    (("x",), "#日期无效: x"),
    (("2025-06-30", "屋顶"), "#保修部位无效: 屋顶"),
    (("2025-06-30", None, None, "明年"), "#年度无效: 明年"),
    (("", None, None, 2026), "#缺少竣工验收日期"),
])
def test_callbacks_bad_arguments(args, message):
    assert AC_CALLBACKS(*args) == message


# --- error values passed in ------------------------------------------------------------------------
@pytest.mark.parametrize("error", ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_an_error_cell_comes_back_as_text_naming_the_error_and_the_argument(error):
    assert AC_WARRANTY_END(error, "屋面防水") == f"{error}（起算日期为错误值）"
    assert AC_WARRANTY_END("2024-06-30", error) == f"{error}（保修部位为错误值）"
    assert AC_REPAIR_DUE("2026-09-28", None, error) == f"{error}（约定到场天数为错误值）"
    assert AC_IS_WORKDAY(error) == f"{error}（日期为错误值）"


def test_error_codes_xlwings_does_not_name_are_named_too():
    # COM hands Excel's newer errors over as their code; xlwings' err_to_str knows only seven
    assert AC_NEXT_WORKDAY(-2146826288 + 45) == "#SPILL!（日期为错误值）"
    assert AC_WARRANTY_STATUS("2026-12-31", -2146826288 + 50) == "#CALC!（查询日期为错误值）"


def test_in_a_range_only_the_error_cells_say_so_and_the_first_bad_argument_wins():
    out = AC_WARRANTY_END([["2024-06-30"], ["#N/A"], ["#N/A"]], [["电气管线"], ["#DIV/0!"], ["电气管线"]])
    assert out == [[DT(2026, 6, 30)], ["#N/A（起算日期为错误值）"], ["#N/A（起算日期为错误值）"]]
    out = AC_OVERDUE_DAYS([["2026-10-08"], ["2026-10-08"]], [[None], ["#VALUE!"]], "2026-10-20")
    assert out == [[12], ["#VALUE!（实际到场日期为错误值）"]]


def test_text_that_merely_starts_with_a_hash_is_not_an_error_value():
    assert AC_WARRANTY_END("2024-06-30", "#屋面") == "#保修部位无效: #屋面"


# --- the ledger's 超期天数 rule ---------------------------------------------------------------------
def test_overdue_days_take_completion_or_acceptance_when_no_arrival_and_stop_for_closed_tickets():
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", "2026-10-11") == 3
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", None, "2026-10-15") == 7
    assert AC_OVERDUE_DAYS("2026-10-08", "2026-10-09", "2026-10-20", "2026-10-11", "2026-10-15") == 1
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", None, None, "已关闭") is None
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", None, None, "维修中") == 12
    # a paid repair outside warranty has no statutory clock, unless 设置 counts it (过保报修计超期)
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", None, None, "维修中", "否") is None
    assert AC_OVERDUE_DAYS("2026-10-08", None, "2026-10-20", None, None, "维修中", "是") == 12
    from pyfuncs.core.settings import Settings
    from pyfuncs.udfs import overdue_days

    assert overdue_days("2026-10-08", None, "2026-10-20", None, None, "维修中", "否",
                        settings=Settings(overdue_out_of_warranty=True)) == 12


# --- the plain layer takes the settings explicitly --------------------------------------------------
def test_plain_functions_take_settings_and_calendar():
    from pyfuncs.core.calendar import WorkCalendar
    from pyfuncs.core.settings import Settings
    from pyfuncs.udfs import is_workday, next_workday, repair_due, warranty_end, warranty_status

    three = Settings(clock_days=3)
    assert repair_due("2026-12-01", settings=three) == DT(2026, 12, 4)
    closed = WorkCalendar({dt.date(2026, 12, 4): False})
    assert repair_due("2026-12-01", settings=three, calendar=closed) == DT(2026, 12, 7)
    assert repair_due("2026-12-01", settings=Settings(clock_days=3, roll_forward=False), calendar=closed) == DT(2026, 12, 4)
    assert is_workday("2026-12-04", calendar=closed) is False and is_workday("2026-12-04") is True
    assert next_workday("2026-12-04", calendar=closed) == DT(2026, 12, 7)
    seventy = Settings(design_life=70)
    assert warranty_end("2024-06-30", "地基基础和主体结构", settings=seventy) == DT(2094, 6, 30)
    taiyuan = Settings().with_seasons([("默认", "11-01", "03-31", "", "")])[0]
    assert warranty_end("2024-06-30", "供热系统", settings=taiyuan) == DT(2026, 3, 31)
    assert warranty_status("2026-12-31", "2026-11-21", settings=Settings(warn_days=30)) == "保修中"
