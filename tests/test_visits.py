"""登记回访 (visits): ids, plan matching, tickets linked both ways, bad rows; pure and on files."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from _jobs_data import run_job, sample_book, sheet_values
from pyfuncs.core.settings import Settings
from pyfuncs.jobs import plan, visits
from pyfuncs.jobs.visits import next_numbers, register, wants_ticket

D = dt.date
TODAY = D(2026, 11, 21)
PROJECTS = pd.DataFrame([{"project_id": "P1", "contact": "张", "phone": "139"}])


def _visits(rows, start=2):
    keys = ["date", "project_id", "met", "problems", "satisfaction", "ticket_id", "visit_id", "registered"]
    data = [dict(zip(keys, r + (None,) * (len(keys) - len(r)))) for r in rows]
    return pd.DataFrame(data, index=range(start, start + len(rows)))


def _plan(rows, start=4):
    keys = ["date", "project_id", "state", "actual"]
    return pd.DataFrame([dict(zip(keys, r)) for r in rows], index=range(start, start + len(rows)))


def _repairs(ids=()):
    return pd.DataFrame({"ticket_id": list(ids), "visit_ref": [None] * len(ids)}, index=range(2, 2 + len(ids)))


def test_numbers_continue_and_never_reuse():
    assert next_numbers(["HF2026-0009", "HF2026-0002", "HF2025-0030"], "HF", 2026, 2) == ["HF2026-0010", "HF2026-0011"]
    v = _visits([(D(2026, 5, 6), "P1"), (D(2026, 5, 7), "P1", None, None, None, None, "HF2026-0041", "已登记 2026-05-08")])
    reg = register(v, PROJECTS, {}, _repairs(), Settings(), TODAY)
    assert reg.visit_cells[2]["visit_id"] == "HF2026-0042" and 3 not in reg.visit_cells


@pytest.mark.parametrize("problems, rating, want", [
    ("屋面渗水", "很满意", True), ("无", "满意", False), ("", "不太满意", True), (None, "不满意", True),
    ("  ", "基本满意", False), ("未发现问题", None, False),
])
def test_ticket_rule(problems, rating, want):
    assert wants_ticket(problems, rating) is want


def test_plan_matching_same_month_then_nearest_within_a_month():
    plans = {2026: _plan([
        (D(2026, 3, 2), "P1", "未回访", None),     # 4: March
        (D(2026, 4, 28), "P1", "未回访", None),    # 5: end of April
        (D(2026, 6, 1), "P1", "已取消", None),     # 6: staff cancelled: never touched
        (D(2026, 9, 1), "P1", "未回访", None),     # 7: too far from anything below
    ])}
    v = _visits([(D(2026, 3, 30), "P1"), (D(2026, 5, 20), "P1"), (D(2026, 6, 3), "P1"), (D(2026, 3, 31), "P1")])
    reg = register(v, PROJECTS, plans, _repairs(), Settings(), TODAY)
    assert reg.plan_cells[2026] == {4: {"state": "已回访", "actual": D(2026, 3, 30)},
                                    5: {"state": "已回访", "actual": D(2026, 5, 20)}}
    assert reg.unmatched == ["P1 2026-06-03", "P1 2026-03-31"]  # March is taken by the first visit


def test_tickets_opened_and_linked_both_ways():
    v = _visits([
        (D(2026, 10, 12), "P1", "刘", "窗户渗水", "满意"),
        (D(2026, 10, 13), "P1", None, "无", "不满意"),
        (D(2026, 10, 14), "P1", None, "外墙裂缝", "满意", "BX2026-0003"),  # staff already linked a ticket
    ])
    reg = register(v, PROJECTS, {}, _repairs(["BX2026-0003", "BX2025-0009"]), Settings(ticket_prefix="BX"), TODAY)
    t1, t2 = reg.new_tickets
    assert (t1["ticket_id"], t1["notice"], t1["problem"], t1["urgency"], t1["cause"], t1["reporter"], t1["phone"]) == \
        ("BX2026-0004", D(2026, 10, 12), "窗户渗水", "一般", "待查", "刘", "139")
    assert t2["ticket_id"] == "BX2026-0005" and t2["problem"] == "回访满意度：不满意" and t2["reporter"] == "张"
    assert reg.visit_cells[2]["ticket_id"] == "BX2026-0004" and t1["visit_ref"] == reg.visit_cells[2]["visit_id"]
    assert "ticket_id" not in reg.visit_cells[4]
    assert reg.ticket_cells == {2: {"visit_ref": reg.visit_cells[4]["visit_id"]}}
    assert all(c["registered"] == "已登记 2026-11-21" for c in reg.visit_cells.values())


def test_bad_rows_reported_and_others_processed():
    v = _visits([(D(2026, 1, 5), "P9", None, "x"), (None, "P1"), (D(2026, 1, 6), "P1", None, "x")])
    reg = register(v, PROJECTS, {}, _repairs(), Settings(), TODAY)
    assert [(p.sheet, p.row, p.column) for p in reg.problems] == [("回访记录", 2, "项目编号"), ("回访记录", 3, "回访日期")]
    assert list(reg.visit_cells) == [4] and len(reg.new_tickets) == 1


# --- on a file ----------------------------------------------------------------------------------
def _add_visits(path, rows):
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import VISITS
    from pyfuncs.tables import append_rows, read_table

    with FileBook.open(path) as b:
        append_rows(b, read_table(b, VISITS), rows)
        b.save()


def test_run_on_file(tmp_path):
    path = sample_book(tmp_path)
    run_job(path, plan, today=TODAY, year=2026)
    ws = openpyxl.load_workbook(path)["回访计划2026"]
    p2_oct = next(r for r in range(4, ws.max_row + 1)
                  if ws.cell(r, 3).value == "P002" and ws.cell(r, 2).value.month == 10)
    _add_visits(path, [
        {"date": D(2026, 10, 12), "project_id": "P002", "met": "刘主任", "problems": "教室窗户渗水", "satisfaction": "满意"},
        {"date": "2026-13-01", "project_id": "P001", "problems": "x"},
        {"date": D(2026, 11, 5), "project_id": "P999", "problems": "x"},
    ])
    res = run_job(path, visits, today=TODAY)
    assert [(p.row, p.column) for p in res.problems if p.level == "错误"] == [(5, "回访日期"), (6, "项目编号")]
    assert res.summary["registered"] == 1 and res.summary["tickets_opened"] == ["BX2026-0004"]
    wb = openpyxl.load_workbook(path)
    v, rep, pl = wb["回访记录"], wb["报修台账"], wb["回访计划2026"]
    vh = {c.value: c.column for c in v[1]}
    assert v.cell(4, vh["回访编号"]).value == "HF2026-0002"      # HF2026-0001 already used in row 3
    assert v.cell(4, vh["报修单号"]).value == "BX2026-0004"
    assert v.cell(4, vh["登记状态"]).value == "已登记 2026-11-21"
    assert v.cell(5, vh["登记状态"]).value is None and v.cell(6, vh["回访编号"]).value is None
    rh = {c.value: c.column for c in rep[1]}
    new = next(r for r in range(2, rep.max_row + 1) if rep.cell(r, rh["报修单号"]).value == "BX2026-0004")
    assert rep.cell(new, rh["来源回访"]).value == "HF2026-0002"
    assert rep.cell(new, rh["报修日期"]).value == dt.datetime(2026, 10, 12)
    assert rep.cell(new, rh["问题描述"]).value == "教室窗户渗水"
    assert rep.tables["tblRepairs"].ref.endswith(str(new))      # the Excel table grew over the row
    ph = {c.value: c.column for c in pl[3]}
    assert (pl.cell(p2_oct, ph["状态"]).value, pl.cell(p2_oct, ph["实际回访日期"]).value) == \
        ("已回访", dt.datetime(2026, 10, 12))

    before = {s: sheet_values(path, s) for s in wb.sheetnames}
    res2 = run_job(path, visits, today=TODAY)
    assert res2.summary["registered"] == 0
    assert {s: sheet_values(path, s) for s in wb.sheetnames} == before


# --- issue 11: 是否发现问题 decides; "no problem" in many words; unclear rows wait for staff --------
@pytest.mark.parametrize("text", ["没有问题", "使用正常", "一切正常", "无明显问题", "无异常", "良好", "暂未发现问题",
                                  "一切正常，业主满意。", " 无 明显问题 "])
def test_no_problem_phrases_open_no_ticket(text):
    v = _visits([(D(2026, 10, 12), "P1", "刘", text, "满意")])
    reg = register(v, PROJECTS, {}, _repairs(), Settings(), TODAY)
    assert reg.new_tickets == [] and reg.visit_cells[2]["registered"] == "已登记 2026-11-21"
    assert reg.problems == [] and reg.pending == []


def _found_visits(rows, start=2):
    keys = ["date", "project_id", "found", "problems", "part", "satisfaction"]
    return pd.DataFrame([dict(zip(keys, r)) for r in rows], index=range(start, start + len(rows))).assign(
        met=None, ticket_id=None, visit_id=None, registered=None, discipline=None)


def test_explicit_column_decides_and_tickets_carry_part_and_discipline():
    v = _found_visits([
        (D(2026, 10, 12), "P1", "是", "", "屋面防水", "满意"),           # 是 with no text: a ticket
        (D(2026, 10, 13), "P1", "否", "卫生间有渗水痕迹", None, "满意"),  # staff say no: none
        (D(2026, 10, 14), "P1", "否", "无", None, "不太满意"),           # low rating: a ticket anyway
        (D(2026, 10, 15), "P1", None, "外墙局部有裂缝", "防渗漏", "很满意"),  # blank: the text describes a defect
    ])
    reg = register(v, PROJECTS, {}, _repairs(), Settings(), TODAY)
    assert [t["notice"] for t in reg.new_tickets] == [D(2026, 10, 12), D(2026, 10, 14), D(2026, 10, 15)]
    t1, t2, t3 = reg.new_tickets
    assert (t1["part"], t1["discipline"], t1["problem"]) == ("屋面防水", "土建", "回访发现问题（未写明，请补充问题描述）")
    assert t2["problem"] == "回访满意度：不太满意" and t2["part"] is None
    assert (t3["problem"], t3["discipline"]) == ("外墙局部有裂缝", "土建")
    assert reg.discipline == {2: "土建", 5: "土建"}  # 专业 filled from 问题部位 on the visit rows


def test_unclear_finding_waits_for_staff_then_finishes(tmp_path):
    path = sample_book(tmp_path)
    run_job(path, plan, today=TODAY, year=2026)
    _add_visits(path, [{"date": D(2026, 10, 12), "project_id": "P002", "met": "刘主任",
                        "problems": "基本正常，建议雨季前疏通落水口", "part": "屋面防水", "satisfaction": "满意"}])
    res = run_job(path, visits, today=TODAY)
    hint = [p for p in res.problems if p.column == "是否发现问题"]
    assert len(hint) == 1 and hint[0].level == "提示" and hint[0].row == 4 and "看不出是否有问题" in hint[0].message
    assert res.summary["tickets_opened"] == [] and res.summary["pending"] == [4]
    wb = openpyxl.load_workbook(path)
    v = wb["回访记录"]
    vh = {c.value: c.column for c in v[1]}
    assert v.cell(4, vh["登记状态"]).value.startswith("待确认")
    assert v.cell(4, vh["回访编号"]).value == "HF2026-0002" and v.cell(4, vh["专业"]).value == "土建"
    ps = wb["回访计划2026"]
    state = next(c.column for c in ps[3] if c.value == "状态")  # header row of the plan
    marked = sum(1 for r in range(4, ps.max_row + 1) if ps.cell(r, state).value == "已回访")
    assert marked == 1  # the visit fulfilled its plan row on the first run
    # a rerun without an answer changes nothing
    before = sheet_values(path, "回访记录")
    run_job(path, visits, today=TODAY)
    assert sheet_values(path, "回访记录") == before
    # staff answer 是: the next run opens the ticket and finishes the registration
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["回访记录"].cell(4, vh["是否发现问题"]).value = "是"
    wb.save(path)
    res = run_job(path, visits, today=TODAY)
    assert res.summary["tickets_opened"] == ["BX2026-0004"] and res.summary["pending"] == []
    assert res.summary["plan_rows_marked"] == 0 and res.summary["unmatched"] == []
    wb = openpyxl.load_workbook(path)
    v, rep = wb["回访记录"], wb["报修台账"]
    assert v.cell(4, vh["登记状态"]).value == "已登记 2026-11-21" and v.cell(4, vh["回访编号"]).value == "HF2026-0002"
    rh = {c.value: c.column for c in rep[1]}
    new = next(r for r in range(2, rep.max_row + 1) if rep.cell(r, rh["报修单号"]).value == "BX2026-0004")
    assert (rep.cell(new, rh["保修部位"]).value, rep.cell(new, rh["专业"]).value) == ("屋面防水", "土建")
    assert rep.cell(new, rh["问题描述"]).value == "基本正常，建议雨季前疏通落水口"
