"""生成年度回访计划 (plan): pure merge rules, and the job on real workbook files."""
from __future__ import annotations

import datetime as dt

import chinese_calendar
import openpyxl
import pandas as pd
import pytest

from _jobs_data import run_job, sample_book, sheet_values
from pyfuncs.core.parts import PART_LABELS
from pyfuncs.jobs import plan
from pyfuncs.jobs.plan import CHANGE_MARK, build_plan, merge_plan, missing_terms

D = dt.date
TODAY = D(2026, 11, 21)
SHEET = "回访计划2026"


def _projects():
    return pd.DataFrame([
        {"project_id": "P1", "name": "一号楼", "client": "甲", "contact": "张", "phone": "1", "visit_owner": "李", "manager": "王"},
        {"project_id": "P2", "name": "二号楼", "client": "乙", "contact": "赵", "phone": "2", "visit_owner": None, "manager": "钱"},
    ])


def _visits(rows):
    return pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]), "project_id": [r[1] for r in rows],
                         "kinds": ["例行回访"] * len(rows), "parts": ["屋面防水"] * len(rows)})


# --- pure -------------------------------------------------------------------------------------
def test_missing_terms_only_for_projects_without_rows():
    terms = pd.DataFrame({"project_id": ["P1"], "part": ["屋面防水"]})
    add = missing_terms(_projects(), terms)
    assert list(add["project_id"].unique()) == ["P2"]
    assert list(add["part"]) == list(PART_LABELS)


def test_build_plan_joins_ledger_and_defaults():
    fresh = build_plan(_visits([("2026-05-15", "P2"), ("2026-03-02", "P1")]), _projects())
    assert list(fresh["project_id"]) == ["P1", "P2"]  # sorted by date
    assert list(fresh["owner"]) == ["李", "钱"]       # 回访负责人, else 项目经理
    assert set(fresh["way"]) == {"实地"} and set(fresh["state"]) == {"未回访"}
    assert fresh.loc[1, "client"] == "乙"


def test_merge_keeps_staff_data_matched_by_project_and_month():
    old = build_plan(_visits([("2026-03-02", "P1"), ("2026-05-15", "P2")]), _projects())
    old.loc[0, ["state", "actual", "note", "owner", "way"]] = ["已回访", D(2026, 3, 5), "已看屋面", "陈", "电话"]
    # the new plan moved P1's March visit within the month: still the same row
    fresh = build_plan(_visits([("2026-03-20", "P1"), ("2026-05-15", "P2")]), _projects())
    out = merge_plan(fresh, old)
    r = out[out["project_id"] == "P1"].iloc[0]
    assert r["date"] == D(2026, 3, 20)
    assert (r["state"], r["actual"], r["note"], r["owner"], r["way"]) == ("已回访", D(2026, 3, 5), "已看屋面", "陈", "电话")
    assert not out["changed"].any()
    assert list(out["seq"]) == [1, 2]


def test_vanished_rows_kept_only_with_staff_data_and_marked():
    old = build_plan(_visits([("2026-03-02", "P1"), ("2026-04-10", "P1"), ("2026-05-15", "P2")]), _projects())
    old.loc[1, "note"] = "业主要求推迟"
    fresh = build_plan(_visits([("2026-05-15", "P2")]), _projects())
    out = merge_plan(fresh, old, {"P1": "李", "P2": "钱"})
    assert len(out) == 2  # P1 March had nothing written by staff: dropped
    kept = out[out["changed"]].iloc[0]
    assert kept["date"] == D(2026, 4, 10) and kept["note"] == CHANGE_MARK + "业主要求推迟"
    # idempotent: merging the result again changes nothing, the mark is not doubled
    again = merge_plan(fresh, out, {"P1": "李", "P2": "钱"})
    pd.testing.assert_frame_equal(again, out)
    # a row staff typed in themselves (no 回访类型) stays, unmarked, even with nothing else filled
    own = pd.concat([out, pd.DataFrame([{"date": D(2026, 8, 3), "project_id": "P2", "kind": "", "state": "未回访"}])],
                    ignore_index=True)
    mine = merge_plan(fresh, own)
    assert len(mine) == 3 and mine.iloc[-1]["date"] == D(2026, 8, 3) and not mine.iloc[-1]["changed"]
    # the visit comes back: the mark goes, the note stays
    back = merge_plan(build_plan(_visits([("2026-04-20", "P1"), ("2026-05-15", "P2")]), _projects()), out)
    assert list(back["note"]) == ["业主要求推迟", ""] and not back["changed"].any()


# --- the job on a file ------------------------------------------------------------------------
@pytest.fixture
def book(tmp_path):
    return sample_book(tmp_path)


def _plan_rows(path):
    ws = openpyxl.load_workbook(path)[SHEET]
    hdr = [c.value for c in ws[3]]
    rows = {}
    for r in range(4, ws.max_row + 1):
        vals = [ws.cell(r, c).value for c in range(1, len(hdr) + 1)]
        if vals[2]:
            rows[r] = dict(zip(hdr, vals))
    return ws, hdr, rows


def _planned(book):
    """Run plan once and open the result for staff's edits: (workbook, plan sheet, header, plan
    rows by Excel row, header → column)."""
    run_job(book, plan, today=TODAY, year=2026)
    wb = openpyxl.load_workbook(book, keep_vba=True)
    _, hdr, rows = _plan_rows(book)
    return wb, wb[SHEET], hdr, rows, {h: i + 1 for i, h in enumerate(hdr)}


def test_run_writes_printable_plan_and_fills_terms(book):
    res = run_job(book, plan, today=TODAY, year=2026)
    assert res.ok, res.problems
    wb = openpyxl.load_workbook(book)
    terms = wb["保修条款"]
    ids = [terms.cell(r, 1).value for r in range(2, terms.max_row + 1)]
    assert sorted(set(i for i in ids if i)) == ["P001", "P002", "P003"] and ids.count("P001") == 10
    ws, hdr, rows = _plan_rows(book)
    assert ws["A1"].value == "2026年度工程回访计划表" and "2026-11-21" in ws["L2"].value
    assert hdr == [c.header for c in plan.plan_table(2026).columns]
    dates = [r["计划日期"] for r in rows.values()]
    assert dates == sorted(dates) and all(d.year == 2026 for d in dates)
    keys = [(r["项目编号"], r["计划日期"].month) for r in rows.values()]
    assert len(keys) == len(set(keys)) == res.summary["rows"]
    assert [r["序号"] for r in rows.values()] == list(range(1, len(rows) + 1))
    # planned on working days (make-up Saturdays/Sundays included), by an independent calendar
    assert all(chinese_calendar.is_workday(d.date()) for d in dates)
    p1 = next(r for r in rows.values() if r["项目编号"] == "P001")
    assert (p1["项目名称"], p1["建设单位"], p1["联系人"], p1["负责人"], p1["回访方式"], p1["状态"]) == \
        ("幸福里小区1号楼", "幸福置业有限公司", "张经理", "李回访", "实地", "未回访")
    assert next(r for r in rows.values() if r["项目编号"] == "P002")["负责人"] == "赵工"
    # print-ready, as openpyxl reads it back
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    assert "&P" in ws.oddFooter.center.text
    # month grouping: detail rows at outline level 1, one subtotal row after each month
    for r in rows:
        assert ws.row_dimensions[r].outlineLevel == 1
    total = next(r for r in range(4, ws.max_row + 1) if "全年合计" in str(ws.cell(r, 1).value))
    subtotals = [r for r in range(4, total + 1) if not ws.cell(r, 3).value]
    months = {d.month for d in dates}
    assert len(subtotals) == len(months) + 1  # + the year total
    assert all(ws.row_dimensions[r].outlineLevel == 0 for r in subtotals)
    assert "小计" in ws.cell(subtotals[0], 4).value


def test_rerun_keeps_staff_data_and_is_idempotent(book):
    wb, ws, hdr, rows, col = _planned(book)
    first = next(iter(rows))
    ws.cell(first, col["状态"]).value = "已回访"
    ws.cell(first, col["实际回访日期"]).value = dt.datetime(2026, 1, 22)
    ws.cell(first, col["备注"]).value = "业主很满意"
    ws.cell(first, col["负责人"]).value = "陈代班"
    # a row the new plan will not have (P002 in December), with a staff note
    last = max(rows)
    for h, v in rows[last].items():
        ws.cell(last + 40, col[h]).value = v
    ws.cell(last + 40, col["计划日期"]).value = dt.datetime(2026, 12, 7)
    ws.cell(last + 40, col["项目编号"]).value = "P002"
    ws.cell(last + 40, col["备注"]).value = "电话约在12月"
    # and an old plan row with no staff data (dropped)
    ws.cell(last + 41, col["计划日期"]).value = dt.datetime(2026, 12, 8)
    ws.cell(last + 41, col["项目编号"]).value = "P003"
    ws.cell(last + 41, col["状态"]).value = "未回访"
    ws.cell(last + 41, col["回访类型"]).value = "例行回访"  # a plan row (not typed in by staff)
    wb.save(book)

    run_job(book, plan, today=TODAY, year=2026)
    _, _, rows2 = _plan_rows(book)
    kept = [r for r in rows2.values() if r["项目编号"] == rows[first]["项目编号"]
            and r["计划日期"].month == rows[first]["计划日期"].month][0]
    assert (kept["状态"], kept["实际回访日期"], kept["备注"], kept["负责人"]) == \
        ("已回访", dt.datetime(2026, 1, 22), "业主很满意", "陈代班")
    dec = [r for r in rows2.values() if r["计划日期"].month == 12]
    assert [(r["项目编号"], r["备注"]) for r in dec] == [("P002", CHANGE_MARK + "电话约在12月")]
    ws2 = openpyxl.load_workbook(book)[SHEET]
    changed_row = next(r for r, v in rows2.items() if v["计划日期"].month == 12)
    assert ws2.cell(changed_row, 3).fill.fgColor.rgb.endswith("FCE4D6")

    before = {s: sheet_values(book, s) for s in openpyxl.load_workbook(book).sheetnames}
    run_job(book, plan, today=TODAY, year=2026)
    after = {s: sheet_values(book, s) for s in openpyxl.load_workbook(book).sheetnames}
    assert after == before


def test_rerun_keeps_columns_staff_added_to_the_plan(book):
    wb, ws, hdr, rows, col = _planned(book)
    mine = len(hdr) + 2  # one empty column, then staff's own
    ws.cell(3, mine).value = "车辆安排"
    first, second = sorted(rows)[:2]
    ws.cell(first, mine).value = "皮卡 京A-12345"
    ws.cell(second, mine).value = "步行"
    # a row that vanishes from the new plan and holds nothing but a value in staff's column
    last = max(rows)
    for h, v in rows[last].items():
        ws.cell(last + 40, col[h]).value = v
    ws.cell(last + 40, col["计划日期"]).value = dt.datetime(2026, 12, 9)
    ws.cell(last + 40, col["项目编号"]).value = "P002"
    ws.cell(last + 40, mine).value = "已约车"
    wb.save(book)

    run_job(book, plan, today=TODAY, year=2026)
    ws2 = openpyxl.load_workbook(book)[SHEET]
    headers = [c.value for c in ws2[3]]
    assert "车辆安排" in headers
    j = headers.index("车辆安排") + 1
    pid_col, date_col = headers.index("项目编号") + 1, headers.index("计划日期") + 1
    by_key = {(ws2.cell(r, pid_col).value, ws2.cell(r, date_col).value): ws2.cell(r, j).value
              for r in range(4, ws2.max_row + 1) if ws2.cell(r, pid_col).value}
    assert by_key[(rows[first]["项目编号"], rows[first]["计划日期"])] == "皮卡 京A-12345"
    assert by_key[(rows[second]["项目编号"], rows[second]["计划日期"])] == "步行"
    assert by_key[("P002", dt.datetime(2026, 12, 9))] == "已约车"  # kept, marked as changed

    before = {s: sheet_values(book, s) for s in openpyxl.load_workbook(book).sheetnames}
    run_job(book, plan, today=TODAY, year=2026)
    assert {s: sheet_values(book, s) for s in openpyxl.load_workbook(book).sheetnames} == before


def test_rerun_keeps_staff_cells_outside_the_plan_table(book):
    """Nothing staff type on the generated sheet is lost: a column with no header travels with its
    rows; a note beside the title, in a subtotal row or under the total goes under the new total."""
    wb, ws, hdr, rows, _ = _planned(book)
    n = len(hdr)
    first = sorted(rows)[0]
    subtotal = next(r for r in range(first, ws.max_row + 1) if r not in rows)  # the first month's subtotal
    total = max(rows) + 2
    ws.cell(first, n + 1).value = "已电话预约"               # no header in that column
    ws.cell(1, n + 2).value = "审核：王主任"                 # beside the title
    ws.cell(subtotal, n).value = "本月人手不足"               # in a subtotal row
    ws.cell(total + 3, 2).value = "年终总结见附件"            # under the year total
    ws.cell(total + 4, 5).value = 42
    wb.save(book)

    res = run_job(book, plan, today=TODAY, year=2026)
    ws2, hdr2, rows2 = _plan_rows(book)
    unnamed = f"未命名（原{openpyxl.utils.get_column_letter(n + 1)}列）"
    assert unnamed in [c.value for c in ws2[3]]
    j = [c.value for c in ws2[3]].index(unnamed) + 1
    key = (rows[first]["项目编号"], rows[first]["计划日期"])
    new_row = next(r for r, v in rows2.items() if (v["项目编号"], v["计划日期"]) == key)
    assert ws2.cell(new_row, j).value == "已电话预约"
    new_total = max(rows2) + 2
    sign_row = new_total + 2  # 编制 / 审核 / 批准 / 日期, one blank row under the total
    assert [v for v in (ws2.cell(sign_row, c).value for c in range(1, n + 1)) if v] == ["编制：", "审核：", "批准：", "日期："]
    below = {(r, c): ws2.cell(r, c).value for r in range(sign_row + 1, ws2.max_row + 1)
             for c in range(1, ws2.max_column + 1) if ws2.cell(r, c).value is not None}
    # in their old order, columns kept, one blank row under the sign-off row
    assert below == {(sign_row + 2, n + 2): "审核：王主任", (sign_row + 2 + subtotal - 1, n): "本月人手不足",
                     (sign_row + 2 + total + 2, 2): "年终总结见附件", (sign_row + 2 + total + 3, 5): 42}
    hints = [p for p in res.problems if p.sheet == SHEET and p.level == "提示"]
    assert hints and "4 个单元格" in hints[0].message and hints[0].row == 1

    before = sheet_values(book, SHEET)
    res = run_job(book, plan, today=TODAY, year=2026)
    assert sheet_values(book, SHEET) == before  # stable from then on
    assert not [p for p in res.problems if p.sheet == SHEET]
