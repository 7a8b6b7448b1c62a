"""Working days and the repair clock (DOMAIN.md §2)."""
import datetime as dt

import numpy as np
from hypothesis import given, strategies as st

from pyfuncs.core.calendar import WorkCalendar, overrides_from_rows
from pyfuncs.core.clock import overdue_days, payer, repair_due
from pyfuncs.core.settings import Settings

D = dt.date


def a(*days):
    return np.array(days, dtype="datetime64[D]")


def one_due(notice, urgency="一般", days=None, settings=None, calendar=None):
    due, errors = repair_due(a(notice), [urgency], [days], settings, calendar)
    assert not errors, errors
    return due[0].astype(dt.date)


def test_calendar_knows_2026_holidays_and_make_up_days():
    cal = WorkCalendar()
    assert not cal.is_workday_one(D(2026, 10, 1))
    assert not cal.is_workday_one(D(2026, 10, 7))
    assert cal.is_workday_one(D(2026, 10, 8))
    # 调休上班日 (make-up working days) are working days though they are weekends
    assert D(2026, 9, 20) in cal.make_up_workdays and cal.is_workday_one(D(2026, 9, 20))
    assert cal.is_workday_one(D(2026, 10, 10))
    assert not cal.is_workday_one(D(2026, 10, 11))  # an ordinary Sunday
    assert not cal.is_workday_one(D(2026, 2, 17))  # Spring Festival


def test_staff_overrides_take_precedence():
    cal = WorkCalendar({D(2026, 10, 8): False, D(2026, 10, 11): True})
    assert not cal.is_workday_one(D(2026, 10, 8))
    assert cal.is_workday_one(D(2026, 10, 11))
    assert cal.next_workday_one(D(2026, 10, 5)) == D(2026, 10, 9)
    # a year beyond the package's range still honours overrides and weekends
    far = WorkCalendar({D(2150, 1, 1): False})
    assert not far.is_workday_one(D(2150, 1, 1)) and far.next_workday_one(D(2150, 1, 1)) == D(2150, 1, 2)


def test_overrides_from_sheet_rows_report_bad_rows_and_keep_good_ones():
    overrides, problems = overrides_from_rows([
        ("2027-02-06", "班", "春节调休"), (46000, "休", ""), ("bad", "休", ""), ("2027-01-01", "假", ""), (None, None, None),
    ])
    assert overrides == {D(2027, 2, 6): True, D(2025, 12, 9): False}
    assert [(i, col) for i, col, _ in problems] == [(2, "日期"), (3, "类型")]


def test_domain_example_national_day_rolls_forward():
    # received 2026-09-28 + 7 days → 2026-10-05, inside the National Day holiday → 2026-10-08
    assert one_due("2026-09-28") == D(2026, 10, 8)


def test_emergency_and_structural_count_calendar_days():
    assert one_due("2026-09-30", "紧急") == D(2026, 10, 1)
    assert one_due("2026-09-30", "涉及结构安全") == D(2026, 10, 1)


def test_roll_forward_setting_off():
    assert one_due("2026-09-28", settings=Settings(roll_forward=False)) == D(2026, 10, 5)


def test_make_up_working_day_is_not_rolled():
    # 2026-09-13 + 7 = 2026-09-20, a Sunday that is an official working day: no roll
    assert one_due("2026-09-13") == D(2026, 9, 20)


def test_ordinary_weekend_rolls_to_monday():
    assert one_due("2026-11-14") == D(2026, 11, 23)  # +7 = Sat 11-21 → Mon 11-23


def test_settings_and_per_row_days():
    assert one_due("2026-11-02", settings=Settings(clock_days=3)) == D(2026, 11, 5)
    assert one_due("2026-11-02", days=10) == D(2026, 11, 12)
    assert one_due("2026-11-02", "紧急", days=0) == D(2026, 11, 2)
    assert one_due("2026-11-02", "紧急", settings=Settings(urgent_days=2)) == D(2026, 11, 4)


def test_bad_rows_only():
    due, errors = repair_due(a("2026-11-02", "2026-11-02", "NaT", "2026-11-02"), ["一般", "很急", None, None],
                             [None, None, None, "三天"])
    assert str(due[0]) == "2026-11-09"
    assert np.isnat(due[1]) and "紧急程度无效: 很急" in errors[1]
    assert np.isnat(due[2]) and 2 not in errors
    assert "到场天数无效: 三天" in errors[3]


def test_staff_holiday_moves_the_deadline():
    cal = WorkCalendar({D(2026, 11, 9): False})
    assert one_due("2026-11-02", calendar=cal) == D(2026, 11, 10)


def test_overdue_days():
    due = a("2026-10-08", "2026-10-08", "2026-10-08", "NaT")
    arrival = a("2026-10-07", "2026-10-10", "NaT", "2026-10-10")
    assert overdue_days(due, arrival, D(2026, 10, 20)).tolist()[:3] == [0, 2, 12]
    assert np.isnan(overdue_days(due, arrival, D(2026, 10, 20))[3])
    assert overdue_days(due[:1], None, D(2026, 10, 1)).tolist() == [0]


def test_payer_table():
    causes = ["施工质量", "施工方采购材料", "设计原因", "建设单位采购材料设备", "使用不当", "第三方责任", "不可抗力", "待查", None]
    inside = payer(causes, ["是"] * len(causes)).tolist()
    assert inside[:2] == ["免费保修", "免费保修"]
    assert "建设单位" in inside[2] and "设计单位" in inside[2]
    assert inside[3] == "建设单位承担"
    assert all("有偿" in p for p in inside[4:7])
    assert inside[7] == inside[8] == "待定（原因待查）"
    assert set(payer(causes, ["否"] * len(causes))) == {"有偿维修"}


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2099, 12, 1)))
def test_due_is_a_working_day_at_or_after_notice_plus_7(day):
    due = one_due(day)
    cal = WorkCalendar()
    assert due >= day + dt.timedelta(days=7)
    assert cal.is_workday_one(due)
    # nothing in between is a working day: it is the first one
    d = day + dt.timedelta(days=7)
    while d < due:
        assert not cal.is_workday_one(d)
        d += dt.timedelta(days=1)


# --- the one definition of a ticket's clock (issue 11: the ledger and the report agree) ------------
from pyfuncs.core.clock import derived_state, on_site_dates, ticket_clock  # noqa: E402


def test_completed_without_arrival_is_on_site_at_completion_not_overdue():
    """Notice 2026-09-01, done 2026-09-05, no arrival, 已完成: due 09-08, on site 09-05, 0 days."""
    c = ticket_clock(a("2026-09-01"), ["一般"], arrivals=a("NaT"), done=a("2026-09-05"), states=["已完成"],
                     as_of=D(2026, 11, 21))
    assert str(c.due[0]) == "2026-09-08" and str(c.on_site[0]) == "2026-09-05"
    assert c.late.tolist() == [0.0] and not c.overdue[0] and not c.open[0]
    assert c.response.tolist() == [4.0]


def test_on_site_falls_back_to_completion_then_acceptance():
    got = on_site_dates(a("2026-09-03", "NaT", "NaT", "NaT"), a("2026-09-05", "2026-09-05", "NaT", "NaT"),
                        a("2026-09-06", "2026-09-06", "2026-09-20", "NaT"))
    assert [str(x) for x in got] == ["2026-09-03", "2026-09-05", "2026-09-20", "NaT"]


def test_late_closed_and_open_tickets():
    c = ticket_clock(a("2026-09-01", "2026-09-01", "2026-09-01", "2026-09-01"), None,
                     arrivals=a("2026-09-12", "NaT", "NaT", "NaT"), done=a("2026-09-13", "NaT", "NaT", "NaT"),
                     states=[None, "已关闭", None, "维修中"], as_of=D(2026, 9, 20))
    # arrived 4 days late and finished: overdue, closed; closed with no date: no clock;
    # nobody came yet: counted to today (12 days); a state says 维修中 with no dates: still open
    assert c.late.tolist()[0] == 4.0 and np.isnan(c.late[1]) and c.late.tolist()[2:] == [12.0, 12.0]
    assert c.overdue.tolist() == [True, False, True, True]
    assert c.open.tolist() == [False, False, True, True]
    assert c.state.tolist() == ["已完成", "已关闭", "待派工", "维修中"]


def test_out_of_warranty_has_no_clock_unless_the_setting_says_so():
    kw = dict(arrivals=a("NaT", "NaT"), out_of_warranty=[True, False], as_of=D(2026, 11, 21))
    c = ticket_clock(a("2026-07-01", "2026-07-01"), None, **kw)
    assert np.isnan(c.late[0]) and c.late[1] > 100 and c.clock_off.tolist() == [True, False]
    assert c.overdue.tolist() == [False, True] and c.open.tolist() == [True, True]
    counted = ticket_clock(a("2026-07-01", "2026-07-01"), None, settings=Settings(overdue_out_of_warranty=True), **kw)
    assert counted.late[0] == counted.late[1] > 100 and not counted.clock_off.any()


def test_agreed_dispatch_days_replace_the_general_clock_only():
    due, errors = repair_due(a("2026-03-02", "2026-03-02", "2026-03-02", "2026-09-28"),
                             ["一般", "紧急", None, "一般"], agreed_days=[3, 3, None, 3])
    assert not errors
    # 3 agreed days; an emergency keeps its 1 calendar day; blank = the setting's 7 days;
    # 09-28 + 3 = 10-01 (National Day) rolls forward to 10-08
    assert [str(x) for x in due] == ["2026-03-05", "2026-03-03", "2026-03-09", "2026-10-08"]
    due, errors = repair_due(a("2026-03-02"), ["一般"], agreed_days=["三天"])
    assert np.isnat(due[0]) and "约定到场天数无效" in errors[0]


def test_signed_off_only_with_the_users_signature():
    states = derived_state(a("2026-09-02", "2026-09-02", "2026-09-02"), a("2026-09-05", "2026-09-05", "2026-09-05"),
                           a("2026-09-06", "2026-09-06", "NaT"), ["是", None, "否"])
    assert states.tolist() == ["已验收", "已完成", "已完成"]
