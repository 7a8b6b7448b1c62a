"""打印回访单 (forms): template rendering (pure) and the job on real files, incl. a printed PDF."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import openpyxl
import pytest

from _jobs_data import run_job, sample_book
from pyfuncs.jobs import forms, plan
from pyfuncs.jobs.forms import load_templates, parse_selection, render_form, satisfaction_boxes, visit_fields

D = dt.date
TODAY = D(2026, 11, 21)


def test_templates_rows_span_the_grid():
    t = load_templates()
    for kind in ("visit", "repair", "notice"):
        lay = render_form(kind, {"project_id": "P1", "ym": "2026-03", "ticket_id": "BX2026-0001"}, t)
        assert lay.orientation == "portrait" and lay.fit_width and lay.fit_height
        assert lay.max_col == len(t[kind]["widths"])
        assert lay.cells[(1, 1)][0] == t["company"]  # company header from the template default


def test_fields_filled_and_repeat_rows_padded():
    lay = render_form("notice", {"company": "甲建设", "client": "乙置业", "name": "一号楼", "project_id": "P1",
                                 "accepted": D(2024, 6, 30), "ym": "2026-02", "issue_date": "2026年2月10日",
                                 "ending": [{"part": "供热系统", "term": "2个采暖期", "end": D(2026, 3, 15)}]})
    texts = [v for v, _ in lay.cells.values() if isinstance(v, str)]
    assert "甲建设" in texts and "乙置业：" in texts and lay.name == "期满通知-P1-2026-02"
    assert any("「一号楼」（项目编号 P1）于 2024-06-30 竣工验收合格" in s for s in texts)
    rows = [r for (r, c), (v, _) in lay.cells.items() if c == 1 and v == "供热系统"]
    assert len(rows) == 1
    assert lay.cells[(rows[0], 2)][0] == "2个采暖期" and lay.cells[(rows[0], 4)][0] == "2026-03-15"
    # min = 3: two padded blank rows below the one item, bordered like the item
    assert lay.cells[(rows[0] + 2, 1)] == (None, "value") and lay.cells[(rows[0] + 3, 1)][1] != "value"


def test_visit_fields_use_the_record_when_there_is_one():
    row = {"date": D(2026, 3, 16), "project_id": "P1", "kind": "例行回访", "parts": "屋面防水", "way": "实地", "owner": "李"}
    f = visit_fields(row, {"project_id": "P1", "name": "一号楼"}, None, [])
    assert (f["form_no"], f["visitor"], f["open_tickets"], f["ym"]) == ("HFD-P1-202603", "李", "无", "2026-03")
    f = visit_fields(row, {"project_id": "P1"}, {"date": D(2026, 3, 17), "met": "张", "satisfaction": "基本满意",
                                                 "problems": "渗水", "visit_id": "HF2026-0003"}, ["BX1 屋面 渗水"])
    assert (f["form_no"], f["met"], f["problems"], f["open_tickets"]) == ("HF2026-0003", "张", "渗水", "BX1 屋面 渗水")
    assert "■基本满意" in f["satisfaction_boxes"] and f["satisfaction_boxes"].count("■") == 1
    assert satisfaction_boxes(None).count("□") == 5


def test_parse_selection():
    sel, bad = parse_selection(["visit:P001:2026-3", "plan:2026:12", "notice:P2:2027-01", "BX2026-0001",
                                "repair:WX2026-0002", "hello"])
    assert sel == [("visit", ("P001", 2026, 3)), ("plan", (2026, 12)), ("notice", ("P2", 2027, 1)),
                   ("repair", ("BX2026-0001",)), ("repair", ("WX2026-0002",))]
    assert bad == ["hello"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    path = sample_book(tmp_path_factory.mktemp("forms"))
    run_job(path, plan, today=TODAY, year=2026)
    return path


def _copy(planned, tmp_path):
    dst = tmp_path / "book.xlsm"
    shutil.copy(planned, dst)
    return dst


def test_forms_as_sheets_filled_from_tables(planned, tmp_path):
    path = _copy(planned, tmp_path)
    res = run_job(path, forms, today=TODAY, selection=["visit:P001:2026-02", "BX2026-0002", "nonsense", "BX2099-0001"])
    assert res.summary["forms"] == ["回访单-P001-2026-02", "期满通知-P001-2026-02", "维修单-BX2026-0002"]
    assert len([p for p in res.problems if p.level == "错误"]) == 2
    wb = openpyxl.load_workbook(path)
    v = wb["回访单-P001-2026-02"]
    values = {c.value for row in v.iter_rows() for c in row if c.value is not None}
    assert {"幸福里小区1号楼", "幸福置业有限公司", "张经理", "13800000001", "2024-06-30", "保修期满前回访",
            "供热系统", "李回访", "2026-02-14"} <= values
    # heating ends 2026-03-15: the visit is due by 02-15, a Sunday in the Spring Festival break, so it
    # is planned on the working day before (the make-up Saturday 02-14), not after the break (02-24)
    assert any("BX2026-0002" in str(x) for x in values)  # the project's open ticket is listed
    assert any(str(x).startswith("回访人签字") for x in values) and any("受访人" in str(x) and "签字" in str(x) for x in values)
    assert v.page_setup.orientation == "portrait" and int(v.page_setup.paperSize) == 9
    assert v.page_setup.fitToWidth == 1 and v.page_setup.fitToHeight == 1
    r = {c.value for row in wb["维修单-BX2026-0002"].iter_rows() for c in row if c.value is not None}
    # 09-28 + 7 days ends in the National Day holiday: the deadline rolls to 10-08
    assert {"管道漏水", "给排水管道", "3单元", "2026-09-28", "2026-10-08", "否", "有偿维修"} <= r
    assert any(str(x).startswith("用户签认") for x in r)
    n = {c.value for row in wb["期满通知-P001-2026-02"].iter_rows() for c in row if c.value is not None}
    assert {"幸福置业有限公司：", "供热系统", "2个采暖期", "2026-03-15"} <= n
    # rerun: same sheets replaced, not duplicated
    names = wb.sheetnames
    run_job(path, forms, today=TODAY, selection=["visit:P001:2026-02", "BX2026-0002"])
    assert openpyxl.load_workbook(path).sheetnames == names


def test_default_is_this_months_plan_rows_and_out_folder(planned, tmp_path):
    path = _copy(planned, tmp_path)
    ws = openpyxl.load_workbook(path)["回访计划2026"]
    april = sorted(ws.cell(r, 3).value for r in range(4, ws.max_row + 1)
                   if ws.cell(r, 3).value and ws.cell(r, 2).value.month == 4)
    res = run_job(path, forms, today=D(2026, 4, 2), extra={"out": str(tmp_path / "out")})
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted(f"回访单-{pid}-2026-04.xlsx" for pid in april) and res.summary["count"] == len(april)
    assert not [n for n in openpyxl.load_workbook(path).sheetnames if n.startswith("回访单")]


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdfinfo"), reason="LibreOffice/poppler not installed")
def test_each_form_prints_on_one_a4_page(planned, tmp_path):
    res = run_job(_copy(planned, tmp_path), forms, today=TODAY, extra={"out": str(tmp_path)},
                  selection=["visit:P001:2026-02", "BX2026-0002"])
    for f in res.summary["forms"]:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp_path), f], check=True, capture_output=True, timeout=120)
        info = subprocess.run(["pdfinfo", f[:-5] + ".pdf"], capture_output=True, text=True).stdout
        assert "Pages:           1" in info and "595" in info  # one A4 portrait page (595 x 842 pt)


def test_work_order_shows_who_went_discipline_and_the_contract_days():
    from pyfuncs.core.settings import Settings
    from pyfuncs.jobs.forms import repair_fields

    t = load_templates()
    ticket = {"ticket_id": "BX2026-0009", "project_id": "P1", "part": "给排水管道", "place": "3单元",
              "contractor": "恒通机电安装有限公司", "repairer": "王师傅", "notice": D(2026, 3, 2)}
    f = repair_fields(ticket, {"project_id": "P1", "name": "一号楼", "dispatch_days": 3}, Settings())
    lay = render_form("repair", {**f, "company": "甲建设"}, t)
    texts = [v for v, _ in lay.cells.values() if isinstance(v, str)]
    assert {"恒通机电安装有限公司", "王师傅", "安装"} <= set(texts)
    assert any("接到报修通知后3天内派人到场" in s for s in texts)
    f = repair_fields({**ticket, "discipline": "机电"}, {"project_id": "P1"}, Settings())
    lay = render_form("repair", {**f, "company": "甲建设"}, t)
    texts = [v for v, _ in lay.cells.values() if isinstance(v, str)]
    assert "机电" in texts and any("接到报修通知后7天内派人到场" in s for s in texts)
