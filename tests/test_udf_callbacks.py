"""AC_CALLBACKS: the one-project planner equals the ledger planner; the table it returns.

:mod:`pyfuncs.core.project_visits` re-applies :mod:`pyfuncs.core.callbacks`' rules to one project
without pandas (so a sheet can call AC_CALLBACKS once per project). These tests hold the two
together on random projects, random settings and random holiday overrides: a rule changed in one
and not the other fails here. The speed is measured by ``python -m pyfuncs.bench``, not here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pyfuncs.core import callbacks
from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import add_months
from pyfuncs.core.parts import PART_LABELS
from pyfuncs.core.project_visits import edate, part_ends, project_visits, season_end
from pyfuncs.core.settings import DEFAULT_SEASONS, Season, Settings
from pyfuncs.core.warranty import season_ends, warranty_ends
from pyfuncs.udfs import AC_CALLBACKS, CALLBACK_HEADER, callbacks_table, fit_table, summary_text

DT = dt.datetime
CITIES = [None, "北京", "太原", "哈尔滨", "广州", "测试市"]


def reference(accepted, year, parts, size, four_new, city, s, cal):
    """What the ledger planner gives for this one project (as AC_CALLBACKS always used to)."""
    projects = pd.DataFrame({"project_id": ["P"], "accepted": [pd.Timestamp(accepted)], "size": [size],
                             "four_new": [four_new], "city": [city]})
    every = callbacks.project_parts(projects, s)
    plan = callbacks.plan_visits(projects, every[every["part"].isin(parts)], year, s, cal)
    return [(pd.Timestamp(r.date).date(), r.kinds, r.parts) for r in plan.itertuples()]


month_days = st.tuples(st.integers(1, 12), st.integers(1, 28))


@st.composite
def random_settings(draw):
    seasons = dict(DEFAULT_SEASONS)
    seasons["测试市"] = Season(draw(month_days), draw(month_days), draw(month_days), draw(month_days))
    return dataclasses.replace(
        Settings(),
        design_life=draw(st.integers(0, 100)),
        first_visit_months=draw(st.integers(0, 3)),
        mid_visit_months=draw(st.integers(0, 12)),
        routine_months_large=draw(st.integers(0, 24)),
        routine_months_medium=draw(st.integers(1, 12)),
        routine_months_small=draw(st.integers(1, 6)),
        rainy_visit=draw(month_days),
        cooling_visit=draw(month_days),
        heating_visit_months_before=draw(st.integers(0, 3)),
        expiry_visit_months_before=draw(st.integers(0, 3)),
        seasons=seasons,
    )


@st.composite
def random_calendar(draw):
    days = draw(st.lists(st.dates(dt.date(2018, 1, 1), dt.date(2032, 12, 31)), max_size=25))
    return WorkCalendar({d: draw(st.booleans()) for d in days})


@hsettings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accepted=st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31)), offset=st.integers(-1, 8),
       parts=st.lists(st.sampled_from(PART_LABELS), min_size=1, max_size=10, unique=True),
       size=st.sampled_from(["大型", "中型", "小型"]), four_new=st.sampled_from(["是", "否"]),
       city=st.sampled_from(CITIES), s=random_settings(), cal=random_calendar())
def test_one_project_planner_equals_the_ledger_planner(accepted, offset, parts, size, four_new, city, s, cal):
    year = accepted.year + offset
    assert project_visits(accepted, year, parts, size, four_new, city, s, cal) == \
        reference(accepted, year, parts, size, four_new, city, s, cal)


@hsettings(max_examples=300, deadline=None)
@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), months=st.integers(-1200, 1200),
       count=st.integers(1, 6), edges=st.tuples(month_days, month_days))
def test_scalar_date_steps_equal_the_vectorised_core(day, months, count, edges):
    d = np.array([day], dtype="datetime64[D]")
    assert edate(day, months) == add_months(d, months)[0].astype(dt.date)
    assert season_end(day, count, edges) == season_ends(d, count, edges)[0][0].astype(dt.date)


@pytest.mark.parametrize("city", CITIES)
def test_part_ends_equal_warranty_ends(city):
    s = dataclasses.replace(Settings(), design_life=70)
    start = dt.date(2024, 12, 1)
    r = warranty_ends(np.array([start] * 10, dtype="datetime64[D]"), list(PART_LABELS),
                      cities=[city] * 10, settings=s)
    assert part_ends(start, PART_LABELS, city, s) == dict(zip(PART_LABELS, r.ends.astype(dt.date).tolist()))


def test_the_table_spills_with_a_header_and_datetimes():
    out = AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京")
    assert out[0] == CALLBACK_HEADER
    assert all(type(r[0]) is DT for r in out[1:])
    assert [r[0].date() for r in out[1:]] == [d for d, _, _ in
                                                reference(dt.date(2025, 6, 30), 2026, PART_LABELS, "大型", "否", "北京",
                                                          Settings(), WorkCalendar())]


def test_settings_and_calendar_are_used():
    base = callbacks_table("2025-06-30", "屋面防水", "大型", 2026)
    assert [r[0] for r in base[1:]] == [DT(2026, 5, 15), DT(2026, 6, 30)]
    later = callbacks_table("2025-06-30", "屋面防水", "大型", 2026, settings=Settings(rainy_visit=(5, 20)))
    assert [r[0] for r in later[1:]] == [DT(2026, 5, 20), DT(2026, 6, 30)]
    closed = callbacks_table("2025-06-30", "屋面防水", "大型", 2026, calendar=WorkCalendar({dt.date(2026, 5, 15): False}))
    assert [r[0] for r in closed[1:]] == [DT(2026, 5, 18), DT(2026, 6, 30)]


def test_a_year_without_visits_says_so():
    assert AC_CALLBACKS("2020-01-10", "装修工程", "中型", 2026)[1] == [None, "（该年度无回访）", None]


def test_error_values_in_any_argument_are_named():
    assert AC_CALLBACKS("#N/A") == "#N/A（竣工验收日期为错误值）"
    assert AC_CALLBACKS("2025-06-30", ["屋面防水", "#REF!"]) == "#REF!（保修部位为错误值）"
    assert AC_CALLBACKS("2025-06-30", None, None, -2146826281) == "#DIV/0!（计划年度为错误值）"


# --- what the calling cells can show ----------------------------------------------------------------
TABLE = AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京")


def test_one_cell_in_an_excel_that_spills_gets_the_table():
    assert fit_table(TABLE, "1,1,1") is TABLE
    assert fit_table(TABLE, None) is TABLE and fit_table(TABLE, "") is TABLE


def test_one_cell_in_excel_2016_gets_one_text_of_every_visit():
    text = fit_table(TABLE, "1,1,0")
    assert text == summary_text(TABLE)
    assert text.split("；")[0] == "2026-04-15 季节性回访（供冷系统）"
    assert len(text.split("；")) == len(TABLE) - 1


def test_an_array_formula_block_is_padded_with_blanks_or_says_what_did_not_fit():
    big = fit_table(TABLE, f"{len(TABLE) + 2},4,0")
    assert big[: len(TABLE)] == [r + [""] for r in TABLE]
    assert big[len(TABLE):] == [["", "", "", ""]] * 2
    small = fit_table(TABLE, "3,3,1")
    assert small[:2] == TABLE[:2]
    assert small[2][0].startswith(f"…另有{len(TABLE) - 2}次回访未显示") and small[2][1:] == ["", ""]
    assert fit_table("#日期无效: x", "3,3,0") == "#日期无效: x"


def test_the_area_argument_reaches_the_table():
    assert AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京", None, "1,1,0") == summary_text(TABLE)


def test_a_heating_visit_in_the_previous_december_stays_apart_from_this_december():
    """A season starting in January, visited a month before: that visit falls in the previous
    year's December and is not merged with this year's December visit (found by the property test)."""
    s = dataclasses.replace(Settings(), heating_visit_months_before=1, routine_months_large=12,
                            seasons={**DEFAULT_SEASONS, "测试市": Season((1, 1), (3, 1), (5, 15), (9, 30))})
    args = (dt.date(2015, 12, 5), 2017, ["屋面防水", "供热系统"], "大型", "否", "测试市", s, WorkCalendar())
    rows = project_visits(*args)
    assert rows == reference(*args)
    assert [(d.year, d.month) for d, _, _ in rows].count((2016, 12)) == 1
    assert [(d.year, d.month) for d, _, _ in rows].count((2017, 12)) == 1
