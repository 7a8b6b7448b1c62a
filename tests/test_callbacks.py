"""Callback visits for a year (DOMAIN.md §3)."""
import datetime as dt

import pandas as pd
import pytest

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.callbacks import plan_visits, project_parts
from pyfuncs.core.settings import Settings

D = dt.date


def projects(*rows):
    return pd.DataFrame(rows, columns=["project_id", "accepted", "size", "four_new", "city"]).assign(
        accepted=lambda f: pd.to_datetime(f["accepted"]))


def plan_of(prj, year, settings=None, parts=None, calendar=None):
    parts = project_parts(prj, settings) if parts is None else parts
    out = plan_visits(prj, parts, year, settings, calendar)
    out["day"] = [pd.Timestamp(d).date() for d in out["date"]]
    return out


def test_routine_first_mid_and_yearly_for_a_large_project():
    p = plan_of(projects(("P1", "2025-03-10", "大型", "否", "北京")), 2025)
    routine = p[p["kinds"].str.contains("例行回访")]
    # +1 month (04-10), +6 months (09-10); yearly from then on
    assert [d.month for d in routine["day"]] == [4, 9]
    assert all("屋面防水" in x for x in routine["parts"])
    assert all("地基基础和主体结构" not in x for x in routine["parts"])
    nxt = plan_of(projects(("P1", "2025-03-10", "大型", "否", "北京")), 2026)
    assert [d.month for d in nxt[nxt["kinds"].str.contains("例行")]["day"]] == [3]


@pytest.mark.parametrize("size, months", [("小型", [3, 6, 9, 12]), ("中型", [6, 12]), ("大型", [12])])
def test_routine_frequency_by_size(size, months):
    # accepted 2024-12-15: in 2025, the visits at +1 and +6, then every 3/6/12 months
    p = plan_of(projects(("P", "2024-12-15", size, "否", "北京")), 2025)
    got = sorted({(d.year - 2024) * 12 + d.month - 12 for d, k in zip(p["day"], p["kinds"]) if "例行回访" in k})
    assert got == sorted(set([1, 6] + months))


def test_routine_stops_when_no_non_structural_part_is_under_warranty():
    # accepted 2015: roof/leak ended 2020-06-30, so no routine visit in 2026 although the structure is covered
    p = plan_of(projects(("P", "2015-06-30", "小型", "否", "北京")), 2026)
    assert p.empty


def test_seasonal_visits_only_while_the_part_is_covered():
    p = plan_of(projects(("P", "2023-08-20", "大型", "否", "北京")), 2026)
    by_month = {d.month: (k, parts) for d, k, parts in zip(p["day"], p["kinds"], p["parts"])}
    # rainy season (05-15) for roof and waterproofing (5 years: covered)
    assert "季节性回访" in by_month[5][0] and "屋面防水、防渗漏" in by_month[5][1]
    # heating: 2 seasons from 2023-08-20 → ended 2025-03-15: no pre-heating visit in Oct 2026
    assert 10 not in by_month
    # cooling: 2023 season is partial (accepted inside), so 2024 and 2025 count → ended 2025-09-30
    assert 4 not in by_month


def test_pre_heating_visit_one_month_before_city_season():
    p = plan_of(projects(("P", "2025-06-30", "中型", "否", "哈尔滨")), 2026)
    heating = [d for d, parts in zip(p["day"], p["parts"]) if parts == "供热系统"]
    # 哈尔滨 heats from 10-20, so the visit is 09-20: a Sunday, but an official make-up working day
    assert heating == [D(2026, 9, 20)]
    assert WorkCalendar().is_workday_one(D(2026, 9, 20))


def test_technical_visits_for_four_new_projects_yearly():
    p = plan_of(projects(("P", "2024-07-08", "大型", "是", "北京")), 2026)
    tech = [d for d, k in zip(p["day"], p["kinds"]) if "技术性回访" in k]
    assert tech == [D(2026, 7, 8)]
    q = plan_of(projects(("P", "2024-07-08", "大型", "否", "北京")), 2026)
    assert not any("技术性回访" in k for k in q["kinds"])


def test_before_expiry_one_month_before_each_part():
    p = plan_of(projects(("P", "2024-06-30", "大型", "否", "北京")), 2026)
    exp = p[p["kinds"].str.contains("保修期满前回访")]
    # heating ends 2026-03-15 → visit 2026-02-15, in the Spring Festival: moved to a working day in Feb
    feb = exp[[d.month == 2 for d in exp["day"]]]
    assert len(feb) == 1 and "供热系统" in feb["parts"].iloc[0]
    # two-year parts end 2026-06-30 → visit in late May, merged with the 05-15 rainy visit into one
    may = p[[d.month == 5 for d in p["day"]]]
    assert len(may) == 1
    assert "季节性回访" in may["kinds"].iloc[0] and "保修期满前回访" in may["kinds"].iloc[0]
    assert "电气管线" in may["parts"].iloc[0] and "屋面防水" in may["parts"].iloc[0]
    assert may["day"].iloc[0] == D(2026, 5, 15)  # the earliest reason's date


def test_one_visit_per_project_and_month_on_working_days():
    prj = projects(*[(f"P{i}", f"20{16 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}", ["大型", "中型", "小型"][i % 3],
                      "是" if i % 4 == 0 else "否", ["北京", "哈尔滨", "太原", "上海"][i % 4]) for i in range(60)])
    p = plan_of(prj, 2026)
    assert not p.empty
    months = [(pid, d.month) for pid, d in zip(p["project_id"], p["day"])]
    assert len(months) == len(set(months))
    cal = WorkCalendar()
    assert all(cal.is_workday_one(d) and d.year == 2026 for d in p["day"])
    assert list(p["date"]) == sorted(p["date"])


def test_staff_holiday_override_moves_a_planned_visit():
    prj = projects(("P", "2025-06-30", "大型", "否", "北京"))
    base = plan_of(prj, 2026)
    assert D(2026, 5, 15) in list(base["day"])
    moved = plan_of(prj, 2026, calendar=WorkCalendar({D(2026, 5, 15): False}))
    # the rainy-season visit is due by 05-15: it moves back to the working day before, never after
    assert D(2026, 5, 14) in list(moved["day"]) and D(2026, 5, 15) not in list(moved["day"])


def test_settings_change_timings():
    prj = projects(("P", "2025-06-30", "大型", "否", "北京"))
    s = Settings(rainy_visit=(6, 1), cooling_visit=(4, 1), routine_months_large=6)
    p = plan_of(prj, 2026, s)
    assert D(2026, 6, 1) in list(p["day"]) and D(2026, 4, 1) in list(p["day"])
    assert sum("例行回访" in k for k in p["kinds"]) == 2  # +12 and +18 months with a 6-month interval


def test_uses_given_warranty_rows():
    prj = projects(("P", "2020-06-30", "大型", "否", "北京"))
    # a contract that extended roofing to 8 years keeps routine and rainy visits going in 2026
    parts = pd.DataFrame({"project_id": ["P"], "part": ["屋面防水"], "start": [pd.Timestamp("2020-06-30")],
                          "end": [pd.Timestamp("2028-06-30")]})
    p = plan_of(prj, 2026, parts=parts)
    assert any("季节性回访" in k for k in p["kinds"]) and any("例行回访" in k for k in p["kinds"])
    assert set(p["parts"]) == {"屋面防水"}


def test_empty_tables_give_an_empty_plan():
    empty = pd.DataFrame({"project_id": pd.Series([], dtype=object), "accepted": pd.Series([], dtype="datetime64[s]"),
                          "size": pd.Series([], dtype=object), "four_new": pd.Series([], dtype=object),
                          "city": pd.Series([], dtype=object)})
    out = plan_visits(empty, project_parts(empty), 2026)
    assert out.empty and list(out.columns) == ["date", "project_id", "kinds", "parts", "reasons", "notes"]
    # a project with no warranty rows at all has nothing under warranty: no visits
    one = projects(("P", "2025-06-30", "大型", "否", "北京"))
    assert plan_visits(one, project_parts(one).iloc[0:0], 2026).empty


# --- issue 11: what staff write, and what a bad cell changes -------------------------------------
def test_four_new_holds_the_technique_and_blank_no_wu_mean_none():
    for value, used in (("装配式混凝土结构", True), ("是", True), ("否", False), ("无", False), (None, False),
                        ("", False), (" 无 ", False)):
        p = plan_of(projects(("P", "2024-07-08", "大型", value, "北京")), 2026)
        tech = p[p["kinds"].str.contains("技术性回访")]
        assert (len(tech) == 1) == used, value
    p = plan_of(projects(("P", "2024-07-08", "大型", "装配式混凝土结构", "北京")), 2026)
    assert p["reasons"].str.contains("四新技术（装配式混凝土结构）应用情况回访（交付满2年）").any()


def test_a_bad_size_changes_only_the_routine_interval_with_a_note():
    good = plan_of(projects(("P", "2024-12-15", "中型", "否", "北京")), 2026)
    bad = plan_of(projects(("P", "2024-12-15", "特大型", "否", "北京")), 2026)
    assert list(bad["day"]) == list(good["day"]) and list(bad["kinds"]) == list(good["kinds"])
    routine = bad["kinds"].str.contains("例行回访")
    assert bad.loc[routine, "notes"].str.contains("项目规模「特大型」不是大型/中型/小型").all()
    assert (bad.loc[~routine, "notes"] == "").all()  # the seasonal visits do not depend on the size
    assert (good["notes"] == "").all()


def test_heating_visit_follows_the_city_row_and_none_without_district_heating():
    def heating(city):
        p = plan_of(projects(("P", "2025-06-30", "中型", "否", city)), 2026)
        return p[p["reasons"].str.contains("供热系统检查")]

    # 呼和浩特 heats from 10-15: the visit is due by 09-15 (a Tuesday)
    for city in ("呼和浩特", "内蒙古呼和浩特", "内蒙古呼和浩特市"):
        h = heating(city)
        assert list(h["day"]) == [D(2026, 9, 15)] and (h["notes"] == "").all(), city
    # 广州: no district heating, no heating visit invented (it was a Beijing-season visit on 10-15)
    assert heating("广州").empty and heating("广东省广州市").empty
    # a city the table lacks: the 默认 row, and the row says so
    h = heating("火星城")
    assert list(h["day"]) == [D(2026, 10, 15)] and h["notes"].str.contains("「火星城」不在城市季节表中").all()


def test_a_part_note_goes_with_that_parts_visits():
    prj = projects(("P", "2021-06-30", "大型", "否", "北京"))
    parts = pd.DataFrame({"project_id": ["P", "P"], "part": ["屋面防水", "电气管线"],
                          "start": pd.to_datetime(["2021-06-30", "2021-06-30"]),
                          "end": pd.to_datetime(["2026-06-30", "2023-06-30"]),
                          "note": ["约定保修期「十年整」无法识别，按法定最低期限5年计算", ""]})
    p = plan_of(prj, 2026, parts=parts)
    assert p["notes"].str.contains("屋面防水：约定保修期「十年整」无法识别").any()
    assert p["kinds"].str.contains("保修期满前回访").any()


# --- the visit's day decides; a visit belongs to the year it is planned in ----------------------------
def test_a_routine_visit_concerns_the_parts_covered_on_its_planned_day():
    """Accepted 2025-04-08: the 6-month visit is due 2025-10-08 (National Day week) and planned
    2025-09-30. A part whose warranty ends 2025-10-05 is still covered on the visit's day (its
    before-expiry visit set two months ahead, so that the September visit is the routine one alone)."""
    prj = projects(("P", "2025-04-08", "大型", "否", "北京"))
    parts = pd.DataFrame({"project_id": ["P", "P"], "part": ["装修工程", "电气管线"],
                          "start": pd.to_datetime(["2025-04-08", "2025-04-08"]),
                          "end": pd.to_datetime(["2025-10-05", "2027-04-08"])})
    p = plan_of(prj, 2025, Settings(expiry_visit_months_before=2), parts=parts)
    mid = p[p["reasons"].str.contains("中期例行回访")]
    assert mid["kinds"].iloc[0] == "例行回访"
    assert list(mid["day"]) == [D(2025, 9, 30)] and mid["parts"].iloc[0] == "电气管线、装修工程"


def test_a_visit_due_late_in_january_can_belong_to_the_december_before():
    """Staff closed 2027-01-01 … 01-24 in 节假日: the first visit due 2027-01-24 is planned on the
    last working day before, 2026-12-31, in the 2026 plan (and not in 2027's)."""
    closed = WorkCalendar({D(2027, 1, 1) + dt.timedelta(days=i): False for i in range(24)})
    prj = projects(("P", "2026-12-24", "大型", "否", "北京"))
    plans = {y: plan_of(prj, y, calendar=closed) for y in (2026, 2027)}
    first = {y: list(p[p["reasons"].str.contains("首次例行回访")]["day"]) for y, p in plans.items()}
    assert first == {2026: [D(2026, 12, 31)], 2027: []}


def test_a_visit_due_at_the_end_of_december_can_belong_to_the_january_after():
    """A part accepted separately on 2025-12-30, the rainy-season day set to 12-31 and
    2025-12-31 closed: the last working day on or before the limit is the part's start, so the
    visit goes to the first working day after it, 2026-01-04 (a make-up working Sunday), in the
    2026 plan."""
    s = Settings(rainy_visit=(12, 31))
    closed = WorkCalendar({D(2025, 12, 31): False})
    prj = projects(("P", "2025-06-30", "大型", "否", "北京"))
    parts = pd.DataFrame({"project_id": ["P"], "part": ["屋面防水"], "start": pd.to_datetime(["2025-12-30"]),
                          "end": pd.to_datetime(["2030-12-30"])})
    plans = {y: plan_of(prj, y, s, parts=parts, calendar=closed) for y in (2025, 2026)}
    rainy = {y: list(p[p["reasons"].str.contains("雨季前")]["day"]) for y, p in plans.items()}
    assert rainy == {2025: [], 2026: [D(2026, 1, 4), D(2026, 12, 31)]}


def test_an_interval_of_one_month_plans_every_month():
    prj = projects(("P", "2025-06-10", "大型", "否", "北京"))
    p = plan_of(prj, 2026, Settings(routine_months_large=1, first_visit_months=2))
    routine = p[p["kinds"].str.contains("例行回访")]
    assert [d.month for d in routine["day"]] == list(range(1, 13))
