"""Issue 11 on real workbook files: a bad or unusual cell changes only what depends on it, the
plan and refresh agree on unreadable terms, cities and seasons, design life, estimated holidays."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from _jobs_data import run_job, sample_book
from pyfuncs.core.calendar import official_years
from pyfuncs.jobs import check, forms, plan, refresh
from pyfuncs.schema import TABLES

D = dt.date
TODAY = D(2026, 11, 21)
SHEET = "回访计划2026"

PROJECTS = [
    # id, name, client, city, size, accepted, life, four_new, manager, owner, contact, phone
    ("P001", "装配式住宅", "甲置业", "北京", "大型", D(2024, 6, 30), None, "装配式混凝土结构", "王", "李", "张", "1"),
    ("P002", "学校", "乙教育局", "天津", "特大型", D(2025, 3, 16), None, "否", "赵", "", "刘", "2"),
    ("P003", "医院", "丙医院", "内蒙古呼和浩特市", "小型", D(2025, 5, 20), "很久", None, "钱", "孙", "周", "3"),
    ("P004", "商场", "丁商业", "广州", "中型", D(2025, 5, 20), 70, "无", "吴", "", "郑", "4"),
    ("P005", "厂房", "戊实业", "火星城", "中型", D(2025, 4, 10), None, "", "冯", "", "陈", "5"),
]
TERMS = [
    # project, part, term, start
    ("P001", "屋面防水", "十年整", None),
    ("P001", "电气管线", None, None),
    ("P003", "地基基础和主体结构", "设计文件规定的合理使用年限", None),
    ("P003", "供热系统", None, None),
    ("P003", "电气管线", None, None),
    ("P004", "地基基础和主体结构", None, None),
    ("P004", "供热系统", None, None),
    ("P004", "电气管线", None, None),
    ("P005", "供热系统", None, None),
    ("P005", "电气管线", None, None),
]


@pytest.fixture
def book(tmp_path):
    return sample_book(tmp_path, projects=PROJECTS, repairs=[], visits=[], terms=TERMS)


def _rows(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    hdr = [c.value for c in ws[3]]
    return [dict(zip(hdr, r)) for r in ws.iter_rows(min_row=4, values_only=True) if r[2]]


def _terms(path):
    ws = openpyxl.load_workbook(path)["保修条款"]
    hdr = [c.value for c in ws[1]]
    return {(r[0], r[1]): dict(zip(hdr, r)) for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}


def _problems(res, sheet, column=None, words=""):
    return [p for p in res.problems if p.sheet == sheet and (column is None or p.column == column)
            and words in p.message]


def test_every_project_is_planned_whatever_its_optional_cells_say(book):
    res = run_job(book, plan, today=TODAY, year=2026)
    rows = _rows(book, SHEET)
    by = {pid: [r for r in rows if r["项目编号"] == pid] for pid in ("P001", "P002", "P003", "P004", "P005")}
    assert all(by.values()), {k: len(v) for k, v in by.items()}

    # P001, 大型, 四新技术 = the technique's name: routine, seasonal and technical visits, the text shown
    kinds = "、".join(r["回访类型"] for r in by["P001"])
    assert {"例行回访", "季节性回访", "技术性回访"} <= set(kinds.split("、"))
    assert any("四新技术（装配式混凝土结构）应用情况回访" in r["回访事由及说明"] for r in by["P001"])
    assert not _problems(res, "项目台账", "四新技术")

    # P002, 项目规模 特大型: listed, and its routine visits fall back to 中型 with the note on them
    assert _problems(res, "项目台账", "项目规模", "特大型")
    routine = [r for r in by["P002"] if "例行回访" in r["回访类型"]]
    assert routine and all("注：项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排" in r["回访事由及说明"]
                           for r in routine)
    assert [r["计划日期"].date() for r in routine] == [D(2026, 3, 16), D(2026, 9, 16)]  # 12 and 18 months

    # P003 in 「内蒙古呼和浩特市」: 呼和浩特's season (from 10-15), visit due by 09-15
    heat = [r for r in by["P003"] if "供热系统检查" in r["回访事由及说明"]]
    assert [r["计划日期"].date() for r in heat] == [D(2026, 9, 15)] and "注" not in heat[0]["回访事由及说明"]
    # P004 in 广州: no district heating, no heating visit invented
    assert not [r for r in by["P004"] if "供热" in r["回访事由及说明"]]
    # P005 in a city the table lacks: the 默认 row, said on the row
    heat = [r for r in by["P005"] if "供热系统检查" in r["回访事由及说明"]]
    # (due by 10-15: merged with the 18-month routine visit due 10-10, a make-up working Saturday)
    assert [r["计划日期"].date() for r in heat] == [D(2026, 10, 10)]
    assert "「火星城」不在城市季节表中" in heat[0]["回访事由及说明"]


def test_an_unreadable_term_gets_the_default_in_plan_and_refresh_alike(book):
    res = run_job(book, plan, today=TODAY, year=2026)
    hit = _problems(res, "保修条款", "约定保修期", "十年整")
    assert hit and hit[0].level == "错误" and "按法定最低期限5年计算" in hit[0].message
    # the roof is still planned: its rainy-season visit (covered through 2029-06-30)
    may = [r for r in _rows(book, SHEET) if r["项目编号"] == "P001" and r["计划日期"].month == 5]
    assert may and "屋面防水" in may[0]["涉及部位"]

    res = run_job(book, refresh, today=TODAY)
    row = _terms(book)[("P001", "屋面防水")]
    assert row["到期日期"].date() == D(2029, 6, 30) and row["保修状态"] == "保修中"
    assert "「十年整」无法识别" in row["提示"] and "数据有误" not in row["提示"]
    hit = _problems(res, "保修条款", "约定保修期", "十年整")
    assert hit and hit[0].level == "错误"


def test_refresh_notes_the_city_design_life_and_season_fallbacks(book):
    run_job(book, plan, today=TODAY, year=2026)
    res = run_job(book, refresh, today=TODAY)
    t = _terms(book)
    # P003: 合理使用年限 「很久」 → the default 50 years; the structure row quoted the 保修书's wording
    s = t[("P003", "地基基础和主体结构")]
    assert s["到期日期"].date() == D(2075, 5, 20) and "「很久」无法识别，按默认50年计算" in s["提示"]
    assert not _problems(res, "保修条款", "约定保修期", "合理使用年限")
    # 呼和浩特: accepted 2025-05-20 → seasons 2025-26, 2026-27 → 2027-04-15, no note
    h = t[("P003", "供热系统")]
    assert h["到期日期"].date() == D(2027, 4, 15) and not h["提示"]
    # 广州: no heating season, 2 seasons counted as 2 years, said on the row
    h = t[("P004", "供热系统")]
    assert h["到期日期"].date() == D(2027, 5, 20) and "无采暖期" in h["提示"]
    # 火星城: 默认 row (11-15→03-15), said on the row; 电气管线 does not depend on the city: no note
    h = t[("P005", "供热系统")]
    assert h["到期日期"].date() == D(2027, 3, 15) and "「火星城」不在城市季节表中" in h["提示"]
    assert not t[("P005", "电气管线")]["提示"]
    # 70 years: used, with the GB 50352 hint
    s = t[("P004", "地基基础和主体结构")]
    assert s["到期日期"].date() == D(2095, 5, 20) and "土地使用权" in s["提示"]


def test_check_lists_cities_design_life_and_the_structure_wording(book):
    from pyfuncs.io.filebook import FileBook

    with FileBook.open(book) as b:
        ps = check.find_problems(b, TODAY)
    rows = {p: i for i, p in enumerate(("P001", "P002", "P003", "P004", "P005"), start=2)}
    city = [p for p in ps if p.sheet == "项目台账" and p.column == "所在城市"]
    assert [(p.row, p.level) for p in city] == [(rows["P005"], "提示")]  # 内蒙古呼和浩特市 and 广州 are known
    assert "火星城" in city[0].message and "默认" in city[0].message
    life = [p for p in ps if p.sheet == "项目台账" and p.column == "合理使用年限"]
    assert any(p.row == rows["P004"] and p.level == "提示" and "土地使用权" in p.message for p in life)
    assert not [p for p in ps if p.sheet == "保修条款" and "合理使用年限" in p.message]
    assert [p for p in ps if p.sheet == "保修条款" and "十年整" in p.message and p.level == "错误"]


def test_the_visit_form_shows_the_technique(book, tmp_path):
    run_job(book, plan, today=TODAY, year=2026)
    rows = _rows(book, SHEET)
    tech = next(r for r in rows if r["项目编号"] == "P001" and "技术性回访" in r["回访类型"])
    res = run_job(book, forms, today=TODAY, selection=[f"visit:P001:2026-{tech['计划日期'].month:02d}"])
    assert res.summary["count"] == 1
    ws = openpyxl.load_workbook(book)[res.summary["forms"][0]]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value]
    i = cells.index("四新技术")
    assert cells[i + 1] == "装配式混凝土结构"
    assert any("四新技术（装配式混凝土结构）应用情况回访" in str(c) for c in cells)


def test_plan_and_check_say_when_the_years_holidays_are_an_estimate(book):
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.tables import append_rows, read_table

    year = official_years()[-1] + 1  # the first year the installed holidays package only estimates
    res = run_job(book, plan, today=TODAY, year=year)
    ws = openpyxl.load_workbook(book)[f"回访计划{year}"]
    assert f"{year}年的法定节假日和调休上班日国务院尚未公布" in ws["A2"].value and "「节假日」" in ws["A2"].value
    assert _problems(res, "节假日", None, f"{year}年")
    # check: the plan sheet uses that year
    with FileBook.open(book) as b:
        ps = check.find_problems(b, TODAY)
    hint = [p for p in ps if p.sheet == "节假日" and f"{year}年" in p.message]
    assert hint and hint[0].level == "提示" and "“休”" in hint[0].message and "“班”" in hint[0].message
    # the official year before it raises nothing
    res = run_job(book, plan, today=TODAY, year=year - 1)
    assert not _problems(res, "节假日", None, "尚未公布")
    # staff enter the State Council's days: no longer an estimate
    with FileBook.open(book) as b:
        append_rows(b, read_table(b, TABLES["holidays"]),
                    [{"date": D(year, 1, 1), "type": "休", "note": "元旦"}])
        b.save()
    res = run_job(book, plan, today=TODAY, year=year)
    assert not _problems(res, "节假日", None, "尚未公布")
    assert "尚未公布" not in (openpyxl.load_workbook(book)[f"回访计划{year}"]["A2"].value or "")
    with FileBook.open(book) as b:
        assert not [p for p in check.find_problems(b, TODAY) if p.sheet == "节假日" and "尚未公布" in p.message]


def test_check_hints_when_the_ledger_reaches_an_estimated_year(tmp_path):
    from pyfuncs.io.filebook import FileBook

    year = official_years()[-1] + 1
    path = sample_book(tmp_path, projects=PROJECTS[:1], visits=[], terms=[],
                       repairs=[("BX1", "P001", D(year, 1, 3), "屋面防水", "顶层", "渗水", "一般", "施工质量",
                                 None, None, "待派工")])
    with FileBook.open(path) as b:
        ps = check.find_problems(b, TODAY)
    assert [p for p in ps if p.sheet == "节假日" and f"{year}年" in p.message and p.level == "提示"]


def test_the_docs_season_table_is_the_shipped_one():
    """docs/rules-plan.md lists the season table staff get: every heating city with its dates, and
    every city without district heating; the two must not drift apart."""
    import re
    from pathlib import Path

    from pyfuncs.core.settings import DEFAULT_SEASONS, Settings

    text = (Path(__file__).resolve().parents[1] / "docs" / "rules-plan.md").read_text(encoding="utf-8")
    listed = {}
    for cities, a, b in re.findall(r"^\| ([^|]+?) \| (\d\d-\d\d) 至次年 (\d\d-\d\d) \|", text, re.M):
        for city in cities.split("、"):
            listed[city] = (a, b)
    shipped = {c: f"{s.heat_start[0]:02d}-{s.heat_start[1]:02d}" for c, s in DEFAULT_SEASONS.items() if s.has_heating}
    assert set(listed) == set(shipped)
    for city, (a, b) in listed.items():
        s = Settings().seasons[city]
        assert (a, b) == (f"{s.heat_start[0]:02d}-{s.heat_start[1]:02d}", f"{s.heat_end[0]:02d}-{s.heat_end[1]:02d}")
    none = re.search(r"\*\*没有城市集中供暖的城市\*\*（[^）]*）：([^。]+)。", text).group(1).replace("\n", "")
    assert set(none.split("、")) == {c for c, s in DEFAULT_SEASONS.items() if not s.has_heating}
