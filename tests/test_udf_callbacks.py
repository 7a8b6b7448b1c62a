"""The callback rules against an independent oracle; AC_CALLBACKS' table.

The plan job and AC_CALLBACKS run the same planner (:func:`pyfuncs.core.callbacks.project_plan`).
Here DOMAIN.md §3 is read a second time, literally and slowly, by :func:`oracle`: dateutil's
relativedelta for the month arithmetic (not :func:`pyfuncs.core.dates.edate`), a day-by-day walk
over the calendar's vectorised ``is_workday`` for the planned day (not the scalar lookups), every
candidate reason over several years filtered by "planned in this year" (not the planner's
window), and the warranty ends of :func:`pyfuncs.core.warranty.warranty_ends` (not the scalar
:func:`~pyfuncs.core.warranty.default_ends`). Random projects, settings, holiday overrides and
ledgers must give the oracle's visits, both through AC_CALLBACKS and through plan_visits.
The speed is measured by ``python -m pyfuncs.bench``, not here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pyfuncs.core import callbacks
from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import add_months, edate
from pyfuncs.core.parts import COOLING, HEATING, LEAK, PART_LABELS, ROOF, STRUCTURE
from pyfuncs.core.settings import DEFAULT_SEASONS, Season, Settings
from pyfuncs.core.warranty import default_ends, season_end, season_ends, warranty_ends
from pyfuncs.udfs import AC_CALLBACKS, CALLBACK_HEADER, callbacks_table, fit_table, summary_text

DT = dt.datetime
DAY = dt.timedelta(days=1)
CITIES = [None, "北京", "太原", "哈尔滨", "广州", "测试市", "火星城", "内蒙古呼和浩特市"]
SIZES = ["大型", "中型", "小型", None, "特大型"]
FOUR_NEW = ["是", "否", None, "无", "装配式混凝土结构"]


# --- the oracle --------------------------------------------------------------------------------
def oracle(accepted, year, rows, size, four_new, city, s: Settings, cal: WorkCalendar):
    """DOMAIN.md §3 for one project: [(date, kinds, parts, notes as a set)] in date order.

    ``rows``: (part, start, end, note) with dates or None."""
    def workday(d):
        return bool(cal.is_workday(np.array([d], dtype="datetime64[D]"))[0])

    def planned(limit, floor):
        d = limit
        while not workday(d):
            d -= DAY
        if floor is not None and d <= floor:
            d = floor + DAY
            while not workday(d):
                d += DAY
        return d

    def on(y, md):
        return dt.date(y, md[0], md[1])

    text = "" if size is None else str(size).strip()
    interval = {"大型": s.routine_months_large, "中型": s.routine_months_medium,
                "小型": s.routine_months_small}.get(text, s.routine_months_medium)
    interval = max(interval, 1)  # an interval of 0 in 设置 plans a visit every month
    size_note = "" if text in ("大型", "中型", "小型") else callbacks.size_note(size, s)
    tech = callbacks.four_new_text(four_new)
    events = []  # (planned day, kind, parts, note)
    kept = [r for r in rows if r[1] is not None and r[2] is not None]

    def concerned(day):
        return {p for p, a, b, _ in kept if p != STRUCTURE and a < day <= b}

    covers = [b for p, a, b, _ in rows if p != STRUCTURE and b is not None]
    if accepted is not None and covers:
        for m in range(1, 12 * (year + 2 - accepted.year)):
            limit = accepted + relativedelta(months=m)
            if limit > max(covers):
                break
            routine = m in (s.first_visit_months, s.mid_visit_months) or m % interval == 0
            note = size_note if m not in (s.first_visit_months, s.mid_visit_months) else ""
            for kind, yes, why_note in (("例行回访", routine, note), ("技术性回访", tech and m % 12 == 0, "")):
                if yes:
                    day = planned(limit, accepted)
                    events.append((day, kind, concerned(day), why_note))
    season = s.season(city)
    for part, start, end, note in kept:
        own = f"{part}：{note}" if note else ""
        for y in range(year - 2, year + 3):
            if part in (ROOF, LEAK):
                limit, why_note = on(y, s.rainy_visit), own
            elif part == COOLING and season.has_cooling:
                limit, why_note = on(y, s.cooling_visit), own
            elif part == HEATING and season.has_heating:
                limit = on(y, season.heat_start) - relativedelta(months=s.heating_visit_months_before)
                city_note = s.city_note(city)
                why_note = own or (f"{HEATING}：{city_note}" if city_note else "")
            else:
                continue
            if start < limit <= end:
                events.append((planned(limit, start), "季节性回访", {part}, why_note))
        limit = end - relativedelta(months=s.expiry_visit_months_before)
        if limit > start:
            events.append((planned(limit, start), "保修期满前回访", {part}, own))
    months = {}
    for day, kind, parts, note in sorted(events, key=lambda e: e[0]):
        if day.year != year:
            continue
        g = months.setdefault((day.year, day.month), [day, set(), set(), set()])
        g[1].add(kind)
        g[2] |= parts
        if note:
            g[3] |= set(note.split("；"))  # compared piece by piece: a note may hold a ；
    return [(d, "、".join(k for k in callbacks.KIND_ORDER if k in kinds), "、".join(p for p in PART_LABELS if p in parts),
             notes) for d, kinds, parts, notes in months.values()]


def statutory_rows(accepted, parts, city, s):
    """The parts' rows with their statutory terms, from the vectorised warranty_ends."""
    r = warranty_ends(np.array([accepted] * len(parts), dtype="datetime64[D]"), list(parts),
                      cities=[city] * len(parts), settings=s, fallback=True)
    return [(p, accepted, None if np.isnat(e) else e.astype(dt.date), n)
            for p, e, n in zip(parts, r.ends, r.data_notes)]


def as_oracle(table):
    """AC_CALLBACKS' rows in the oracle's shape (the notes read back from 回访事由及说明)."""
    out = []
    for day, kinds, parts, text in table[1:]:
        if day is None:
            continue
        notes = set(text.split("。注：", 1)[1].split("；")) if "。注：" in text else set()
        out.append((day.date(), kinds, parts, notes))
    return out


# --- random projects, settings and calendars ------------------------------------------------------
month_days = st.tuples(st.integers(1, 12), st.integers(1, 28))


@st.composite
def random_settings(draw):
    seasons = dict(DEFAULT_SEASONS)
    heat = draw(st.one_of(st.tuples(month_days, month_days), st.just((None, None))))
    seasons["测试市"] = Season(*heat, draw(month_days), draw(month_days))
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
    days = draw(st.lists(st.dates(dt.date(2014, 1, 1), dt.date(2040, 12, 31)), max_size=25))
    return WorkCalendar({d: draw(st.booleans()) for d in days})


@hsettings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accepted=st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31)), offset=st.integers(-1, 8),
       parts=st.lists(st.sampled_from(PART_LABELS), min_size=1, max_size=10, unique=True),
       size=st.sampled_from(SIZES), four_new=st.sampled_from(FOUR_NEW),
       city=st.sampled_from(CITIES), s=random_settings(), cal=random_calendar())
def test_callbacks_give_the_oracles_visits(accepted, offset, parts, size, four_new, city, s, cal):
    year = accepted.year + offset
    table = callbacks_table(accepted, parts, size, year, four_new, city, settings=s, calendar=cal)
    wanted = [p for p in PART_LABELS if p in parts]
    assert as_oracle(table) == oracle(accepted, year, statutory_rows(accepted, wanted, city, s),
                                      size, four_new, city, s, cal)


part_rows = st.tuples(
    st.sampled_from(PART_LABELS),
    st.one_of(st.none(), st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31))),
    st.one_of(st.none(), st.integers(1, 150)),  # months from start to end
    st.sampled_from(["", "约定保修期「十年整」无法识别，按法定最低期限5年计算"]),
)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects=st.lists(st.tuples(st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31)), st.sampled_from(SIZES),
                                   st.sampled_from(FOUR_NEW), st.sampled_from(CITIES),
                                   st.lists(part_rows, max_size=6)), min_size=1, max_size=4),
       year=st.integers(2016, 2032), s=random_settings(), cal=random_calendar())
def test_the_ledger_planner_gives_every_project_the_oracles_visits(projects, year, s, cal):
    """plan_visits over a ledger of several projects, with parts of their own (separate starts,
    any ends, unknown dates, notes): each project gets exactly the oracle's visits."""
    ids = [f"P{i}" for i in range(len(projects))]
    ledger = pd.DataFrame({"project_id": ids, "accepted": pd.to_datetime([p[0] for p in projects]),
                           "size": [p[1] for p in projects], "four_new": [p[2] for p in projects],
                           "city": [p[3] for p in projects]})
    rows = {pid: [(part, start, None if start is None or months is None else start + relativedelta(months=months),
                   note) for part, start, months, note in p[4]] for pid, p in zip(ids, projects)}
    parts = pd.DataFrame([(pid, *r) for pid in ids for r in rows[pid]],
                         columns=["project_id", "part", "start", "end", "note"])
    parts["start"] = pd.to_datetime(parts["start"])
    parts["end"] = pd.to_datetime(parts["end"])
    plan = callbacks.plan_visits(ledger, parts, year, s, cal)
    assert list(plan["date"]) == sorted(plan["date"])
    for pid, (accepted, size, four_new, city, _) in zip(ids, projects):
        mine = plan[plan["project_id"] == pid]
        got = [(pd.Timestamp(d).date(), k, p, set(n.split("；")) if n else set())
               for d, k, p, n in zip(mine["date"], mine["kinds"], mine["parts"], mine["notes"])]
        assert got == oracle(accepted, year, rows[pid], size, four_new, city, s, cal), pid


def test_the_oracle_knows_the_first_visit_of_issue_11():
    """The oracle itself catches the issue-11 cases: a first visit within the month, and none
    after its limit, on a day the official calendar checks (2025-09-30 before National Day)."""
    s, cal = Settings(), WorkCalendar()
    rows = statutory_rows(dt.date(2025, 9, 1), ["电气管线"], "北京", s)
    assert oracle(dt.date(2025, 9, 1), 2025, rows, "大型", None, "北京", s, cal)[0][0] == dt.date(2025, 9, 30)


# --- the scalar helpers equal the vectorised core -------------------------------------------------
@hsettings(max_examples=300, deadline=None)
@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), months=st.integers(-1200, 1200),
       count=st.integers(1, 6), edges=st.tuples(month_days, month_days))
def test_scalar_date_steps_equal_the_vectorised_core_and_dateutil(day, months, count, edges):
    d = np.array([day], dtype="datetime64[D]")
    assert edate(day, months) == add_months(d, months)[0].astype(dt.date) == day + relativedelta(months=months)
    assert season_end(day, count, edges) == season_ends(d, count, edges)[0][0].astype(dt.date)


@hsettings(max_examples=150, deadline=None)
@given(start=st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)), city=st.sampled_from(CITIES + ["广东省深圳市"]),
       s=random_settings())
def test_default_ends_equal_warranty_ends(start, city, s):
    r = warranty_ends(np.array([start] * 10, dtype="datetime64[D]"), list(PART_LABELS),
                      cities=[city] * 10, settings=s, fallback=True)
    expected = [(None if np.isnat(e) else e.astype(dt.date), n) for e, n in zip(r.ends, r.data_notes)]
    assert default_ends(start, PART_LABELS, city, s) == expected


@hsettings(max_examples=100, deadline=None)
@given(day=st.dates(dt.date(1940, 1, 1), dt.date(2110, 12, 31)), cal=random_calendar())
def test_scalar_working_days_equal_the_vectorised_calendar(day, cal):
    d = np.array([day], dtype="datetime64[D]")
    assert cal.is_workday_one(day) == bool(cal.is_workday(d)[0])
    assert cal.next_workday_one(day) == cal.next_workday(d)[0].astype(dt.date)
    assert cal.prev_workday_one(day) == cal.prev_workday(d)[0].astype(dt.date)


# --- a visit belongs to the year it is planned in ------------------------------------------------
def test_a_heating_season_starting_in_january_is_visited_in_the_december_before_in_that_years_plan():
    """The reported oddity: a season starting 01-01, visited a month before, put a previous-
    December date into the year's plan. The visit is due 1 December of the year before the
    season, so it belongs to that year's plan (merged with that December's other visits), never
    to the plan of the year the season starts in."""
    s = dataclasses.replace(Settings(), heating_visit_months_before=1, routine_months_large=12,
                            seasons={**DEFAULT_SEASONS, "测试市": Season((1, 1), (3, 1), (5, 15), (9, 30))})
    # handed over 2015-12-05: the complete seasons 2016-01-01… and 2017-01-01… → covered to 2017-03-01
    args = (dt.date(2015, 12, 5), ["屋面防水", "供热系统"], "大型")
    plans = {y: callbacks_table(*args, y, "否", "测试市", settings=s, calendar=WorkCalendar()) for y in (2016, 2017)}
    assert all(r[0].year == y for y, t in plans.items() for r in t[1:])
    heating = {y: [r for r in t[1:] if "供热系统检查" in r[3]] for y, t in plans.items()}
    # the 2016-01-01 season was due 2015-12-01, before the handover: no visit; the 2017-01-01
    # season is visited 2016-12-01, with the yearly routine visit due 2016-12-05 on that day
    assert [(r[0].date(), r[1]) for r in heating[2016]] == [(dt.date(2016, 12, 1), "例行回访、季节性回访")]
    # 2017: no heating visit (the 2018 season is after the warranty), its December is the routine one alone
    assert heating[2017] == []
    december = [r for r in plans[2017][1:] if r[0].month == 12]
    assert [(r[0].date(), r[1]) for r in december] == [(dt.date(2017, 12, 5), "例行回访")]


def test_every_visit_is_in_exactly_one_years_plan():
    """Across the turn of the year: a limit early in January can be planned in the December
    before (the New Year holiday), a visit due at the end of December after a handover on the
    30th goes to the first working day after it; either way it is in one plan only."""
    s = Settings()
    years = range(2024, 2028)
    for accepted in (dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 11, 30), dt.date(2025, 12, 2)):
        rows = callbacks.default_part_rows(accepted, PART_LABELS, "北京", s)
        by_year = {y: callbacks.project_plan(accepted, y, rows, "小型", "是", "北京", s) for y in years}
        assert all(v.date.year == y for y, vs in by_year.items() for v in vs)
        reasons = [r for vs in by_year.values() for v in vs for r in v.reasons.split("；")]
        first = [r for r in reasons if r.startswith("首次例行回访")]
        assert len(first) == 1, (accepted, first)
        yearly = [r for r in reasons if r.startswith("例行回访（交付满")]
        assert len(yearly) == len(set(yearly))


# --- the table AC_CALLBACKS returns --------------------------------------------------------------
def test_the_table_spills_with_a_header_and_datetimes():
    out = AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京")
    assert out[0] == CALLBACK_HEADER == ["回访日期", "回访类型", "涉及部位", "回访事由及说明"]
    assert all(type(r[0]) is DT and len(r) == 4 for r in out[1:])
    s, cal = Settings(), WorkCalendar()
    rows = statutory_rows(dt.date(2025, 6, 30), list(PART_LABELS), "北京", s)
    assert [r[0].date() for r in out[1:]] == [v[0] for v in oracle(dt.date(2025, 6, 30), 2026, rows, "大型", "否",
                                                                    "北京", s, cal)]


def test_four_new_is_text_as_in_the_plan_and_size_falls_back_with_a_note():
    tech = AC_CALLBACKS("2024-07-08", None, "大型", 2026, "装配式混凝土结构", "北京")
    row = [r for r in tech[1:] if "技术性回访" in r[1]]
    assert len(row) == 1 and "四新技术（装配式混凝土结构）应用情况回访（交付满2年）" in row[0][3]
    for none in ("否", "无", None, ""):
        assert not any("技术性回访" in r[1] for r in AC_CALLBACKS("2024-07-08", None, "大型", 2026, none)[1:])
    odd = AC_CALLBACKS("2024-12-15", None, "特大型", 2026, None, "北京")
    medium = AC_CALLBACKS("2024-12-15", None, "中型", 2026, None, "北京")
    assert [r[:3] for r in odd] == [r[:3] for r in medium]
    notes = [r[3] for r in odd[1:] if "例行回访" in r[1]]
    assert notes and all("注：项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排" in n for n in notes)


def test_settings_and_calendar_are_used():
    base = callbacks_table("2025-06-30", "屋面防水", "大型", 2026)
    assert [r[0] for r in base[1:]] == [DT(2026, 5, 15), DT(2026, 6, 30)]
    later = callbacks_table("2025-06-30", "屋面防水", "大型", 2026, settings=Settings(rainy_visit=(5, 20)))
    assert [r[0] for r in later[1:]] == [DT(2026, 5, 20), DT(2026, 6, 30)]
    # 05-15 made a rest day: the visit due by then moves back to the working day before
    closed = callbacks_table("2025-06-30", "屋面防水", "大型", 2026, calendar=WorkCalendar({dt.date(2026, 5, 15): False}))
    assert [r[0] for r in closed[1:]] == [DT(2026, 5, 14), DT(2026, 6, 30)]


def test_a_year_without_visits_says_so():
    assert AC_CALLBACKS("2020-01-10", "装修工程", "中型", 2026)[1] == [None, "（该年度无回访）", None, None]


def test_error_values_in_any_argument_are_named():
    assert AC_CALLBACKS("#N/A") == "#N/A（竣工验收日期为错误值）"
    assert AC_CALLBACKS("2025-06-30", ["屋面防水", "#REF!"]) == "#REF!（保修部位为错误值）"
    assert AC_CALLBACKS("2025-06-30", None, None, -2146826281) == "#DIV/0!（计划年度为错误值）"
    assert AC_CALLBACKS("2025-06-30", None, None, None, "#N/A") == "#N/A（四新技术为错误值）"


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
    big = fit_table(TABLE, f"{len(TABLE) + 2},5,0")
    assert big[: len(TABLE)] == [r + [""] for r in TABLE]
    assert big[len(TABLE):] == [["", "", "", "", ""]] * 2
    three = fit_table(TABLE, f"{len(TABLE)},3,0")  # a block as wide as the old three columns
    assert three == [r[:3] for r in TABLE]
    small = fit_table(TABLE, "3,4,1")
    assert small[:2] == TABLE[:2]
    assert small[2][0].startswith(f"…另有{len(TABLE) - 2}次回访未显示") and small[2][1:] == ["", "", ""]
    assert fit_table("#日期无效: x", "3,3,0") == "#日期无效: x"


def test_the_area_argument_reaches_the_table():
    assert AC_CALLBACKS("2025-06-30", None, "大型", 2026, "否", "北京", None, "1,1,0") == summary_text(TABLE)


@pytest.mark.parametrize("city", [None, "广州", "火星城"])
def test_the_notes_of_a_city_reach_the_table(city):
    """What the plan notes on heating and cooling visits (the city's season row) is in the table."""
    out = AC_CALLBACKS("2024-06-30", None, "大型", 2026, None, city)
    text = "".join(r[3] for r in out[1:])
    if city == "广州":
        assert not any("供热系统检查" in r[3] for r in out[1:])  # no heating visit invented
        assert "「广州」在城市季节表中无采暖期" in text      # the heating part's term counted in years
    else:
        assert ("未填所在城市" if city is None else "「火星城」不在城市季节表中") in text
