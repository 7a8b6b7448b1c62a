"""本周待办 (pyfuncs.jobs.todo) and 项目档案 (pyfuncs.jobs.project) on real files, through both
doors (FileBook and the recording COM fake), and the on-open summary."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from _jobs_data import blank_book
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import JobOptions, plan, project, todo

D = dt.date
TODAY = D(2026, 11, 21)

PROJECTS = [
    dict(project_id="P001", name="幸福里小区1号楼", client="幸福置业", city="北京", size="大型", accepted=D(2024, 6, 30),
         manager="王建国", visit_owner="李回访", contact="张经理", phone="13800000001"),
    dict(project_id="P002", name="城东学校教学楼", client="城东区教育局", city="天津", size="中型", accepted=D(2025, 3, 15),
         manager="赵工", contact="刘主任", phone="13800000002"),
    dict(project_id="P003", name="滨河商业综合体", client="滨河商业", city="沈阳", size="小型", accepted=D(2023, 10, 20),
         manager="钱工", visit_owner="孙回访"),
    dict(project_id="P004", name="南苑住宅", client="南苑置业", city="上海", size="中型", accepted=D(2024, 12, 15),
         manager="周工", visit_owner="李回访"),
    dict(project_id="P005", name="北辰厂房", client="北辰实业", city="上海", size="小型", accepted=D(2024, 12, 10),
         manager="吴工", visit_owner="孙回访"),
]
TERMS = [
    dict(project_id="P004", part="装修工程"), dict(project_id="P004", part="电气管线", term="2年"),
    dict(project_id="P004", part="屋面防水"),
    dict(project_id="P005", part="装修工程"),
]
T = dict(urgency="一般", part="屋面防水", place="3单元", problem="屋面渗水")  # in warranty: the clock runs
REPAIRS = [
    dict(T, ticket_id="BX2026-0101", project_id="P001", notice=D(2026, 11, 2), repairer="张维修"),  # 超期未到场
    dict(T, ticket_id="BX2026-0102", project_id="P002", notice=D(2026, 11, 20)),                  # 应到场, nobody
    dict(T, ticket_id="BX2026-0103", project_id="P001", notice=D(2026, 7, 1), arrival=D(2026, 7, 3),
         done=D(2026, 7, 5), repairer="张维修"),                                                   # 待签认
    dict(T, ticket_id="BX2026-0104", project_id="P003", notice=D(2026, 6, 1), arrival=D(2026, 6, 3),
         state="维修中", repairer="钱维修"),                                                      # 长期未结
    dict(T, ticket_id="BX2026-0105", project_id="P003", notice=D(2026, 3, 1)),                    # 超期 + 长期
    dict(T, ticket_id="BX2025-0001", project_id="P001", notice=D(2025, 5, 1), arrival=D(2025, 5, 2),
         done=D(2025, 5, 3), signed="是", state="已关闭"),
    dict(T, ticket_id="BX2026-0106", project_id="P002", notice=D(2026, 11, 20), urgency="紧急",
         arrival=D(2026, 11, 20), done=D(2026, 11, 21), signed="是"),
]
VISITS = [
    dict(date=D(2026, 11, 10), project_id="P005", kind="保修期满前回访", way="实地", visitor="孙回访", satisfaction="满意"),
    dict(date=D(2026, 3, 10), project_id="P003", kind="例行回访", way="实地", visitor="孙回访", met="周总",
         satisfaction="满意"),
]


def make(path: Path) -> Path:
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import append_rows, read_table

    blank_book(path)
    with FileBook.open(path) as book:
        for key, rows in (("projects", PROJECTS), ("terms", TERMS), ("repairs", REPAIRS), ("visits", VISITS)):
            append_rows(book, read_table(book, TABLES[key]), rows)
        book.save()
    with FileBook.open(path) as book:
        plan.run(book, JobOptions(today=TODAY, year=2026))
        book.save()
    return path


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("todo") / "t.xlsm")


def copy(src: Path, tmp_path: Path, name: str = "c.xlsm") -> Path:
    p = tmp_path / name
    p.write_bytes(src.read_bytes())
    return p


def run(path: Path, module, **opts):
    with FileBook.open(path) as book:
        result = module.run(book, JobOptions(today=TODAY, **opts))
        book.save()
    return result


def todo_lines(path: Path) -> list[dict]:
    """The 待办 sheet's item lines as staff see them, with each line's link."""
    ws = openpyxl.load_workbook(path)[todo.TODO_SHEET]
    out, group = [], None
    for r in range(todo.FIRST_ROW, ws.max_row + 1):
        first = ws.cell(r, 1).value
        if isinstance(first, str):
            group = first
            continue
        if first is None:
            continue
        link = ws.cell(r, 8).hyperlink
        out.append(dict(seq=first, kind=ws.cell(r, 2).value, pid=ws.cell(r, 3).value, what=ws.cell(r, 5).value,
                        date=ws.cell(r, 6).value, group=group, link=link.location if link else None, row=r))
    return out


def test_every_topic_lists_what_it_should_and_nothing_else(ledger, tmp_path):
    p = copy(ledger, tmp_path)
    result = run(p, todo)
    lines = todo_lines(p)
    tickets = {re.match(r"BX\d{4}-\d{4}", ln["what"]).group(0): ln for ln in lines if ln["what"].startswith("BX")}
    assert {t: ln["kind"] for t, ln in tickets.items()} == {
        "BX2026-0101": "超期未到场", "BX2026-0102": "应到场", "BX2026-0103": "待签认",
        "BX2026-0104": "长期未结", "BX2026-0105": "超期未到场"}
    assert "另：长期未结" in tickets["BX2026-0105"]["what"]  # one line per row, the other topic named
    assert "未指定维修人员" in tickets["BX2026-0102"]["what"]
    # grouped by person: 维修人员, else the project's 回访负责人, else its 项目经理
    assert tickets["BX2026-0101"]["group"].startswith("张维修（")
    assert tickets["BX2026-0102"]["group"].startswith("赵工（")
    assert tickets["BX2026-0105"]["group"].startswith("孙回访（")
    # parts ending within 30 days with no before-expiry visit: P004's two 2-year parts, not P005's
    # (visited on 11-10), not P004's roof (5 years)
    expiring = [ln for ln in lines if ln["kind"] == "期满未回访"]
    assert sorted(ln["what"].split("\n")[0] for ln in expiring) == ["电气管线 保修期届满", "装修工程 保修期届满"]
    assert {ln["pid"] for ln in expiring} == {"P004"}
    notices = [ln for ln in lines if ln["kind"] == "期满通知书"]
    assert [ln["pid"] for ln in notices] == ["P004"] and "notice:P004:2026-12" in notices[0]["what"]
    # the summary counts what the sheet shows
    kinds = {}
    for ln in lines:
        kinds[ln["kind"]] = kinds.get(ln["kind"], 0) + 1
    assert result.summary["by_kind"] == kinds and result.summary["items"] == len(lines)
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))


def test_plan_rows_overdue_and_coming_up_follow_the_plan_sheet(ledger, tmp_path):
    """Every plan row not done and past its date is 回访逾期, every one within 7 days 待回访; a row
    staff mark 已回访 (or give an 实际回访日期) drops out on the next run."""
    p = copy(ledger, tmp_path)
    ws = openpyxl.load_workbook(p)["回访计划2026"]
    want = {}
    for r in range(4, ws.max_row + 1):
        pid, day, state = ws.cell(r, 3).value, ws.cell(r, 2).value, ws.cell(r, 13).value
        if not pid or not isinstance(day, dt.datetime) or state not in (None, "未回访"):
            continue
        if day.date() < TODAY:
            want[r] = "回访逾期"
        elif day.date() <= TODAY + dt.timedelta(days=7):
            want[r] = "待回访"
    assert "回访逾期" in want.values()
    run(p, todo)
    got = {int(ln["link"].split("!A")[1]): ln["kind"] for ln in todo_lines(p) if ln["link"].startswith("'回访计划2026'")}
    assert got == want
    done_row = next(r for r, k in want.items() if k == "回访逾期")
    other = next(r for r, k in want.items() if k == "回访逾期" and r != done_row)
    with FileBook.open(p) as book:
        book.write("回访计划2026", done_row, 13, [["已回访"]])
        book.write("回访计划2026", other, 14, [[D(2026, 11, 3)]])
        book.save()
    run(p, todo)
    got = {int(ln["link"].split("!A")[1]) for ln in todo_lines(p) if ln["link"].startswith("'回访计划2026'")}
    assert got == set(want) - {done_row, other}


def test_each_line_links_to_its_own_row(ledger, tmp_path):
    """Following a line's link lands on a row of the same project (ledger, plan or 保修条款)."""
    p = copy(ledger, tmp_path)
    run(p, todo)
    wb = openpyxl.load_workbook(p)
    lines = todo_lines(p)
    assert lines and all(ln["link"] for ln in lines)
    for ln in lines:
        sheet, cell = ln["link"].rsplit("!", 1)
        ws = wb[sheet.strip("'")]
        row = int(cell[1:])
        header = 3 if sheet.startswith("'回访计划") else 1
        col = [c.value for c in ws[header]].index("项目编号") + 1
        assert ws.cell(row, col).value == ln["pid"], ln


def test_person_and_days_narrow_the_list(ledger, tmp_path):
    p = copy(ledger, tmp_path)
    res = run(p, todo, extra={"person": "张维修"})
    lines = todo_lines(p)
    assert {ln["group"].split("（")[0] for ln in lines} == {"张维修"} and len(lines) == 2
    assert res.summary["by_person"] == {"张维修": 2}
    assert "张维修" in openpyxl.load_workbook(p)[todo.TODO_SHEET]["A1"].value
    run(p, todo, extra={"person": "没有这个人"})
    assert todo_lines(p) == []
    assert openpyxl.load_workbook(p)[todo.TODO_SHEET]["A2"].value == "没有这个人 没有待办事项"
    # a longer look-ahead never lists less
    short = run(p, todo, extra={"days": 1}).summary["items"]
    long = run(p, todo, extra={"days": 60}).summary["items"]
    assert long > short


def test_the_sheet_is_regenerated_not_added(ledger, tmp_path):
    p = copy(ledger, tmp_path)
    run(p, todo)
    run(p, todo)
    names = openpyxl.load_workbook(p).sheetnames
    assert names.count(todo.TODO_SHEET) == 1 and len(names) == len(set(names))
    ws = openpyxl.load_workbook(p)[todo.TODO_SHEET]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == f"${todo.HEADER_ROW}:${todo.HEADER_ROW}"


def test_cli_todo_and_project(ledger, tmp_path, capsys):
    from pyfuncs.cli import main

    p = copy(ledger, tmp_path)
    assert main(["todo", str(p), "--today", "2026-11-21", "--days", "14", "--person", "李回访"]) == 0
    assert "「待办」已生成" in capsys.readouterr().out
    assert main(["todo", str(p), "--days", "0"]) == 2  # not a number of days
    assert main(["project", str(p), "P001", "--today", "2026-11-21"]) == 0
    assert "档案-P001" in openpyxl.load_workbook(p).sheetnames
    before = p.read_bytes()
    assert main(["project", str(p), "P001", "P999"]) == 2  # a project that does not exist: nothing written
    out = capsys.readouterr()
    assert "项目台账中没有项目「P999」" in out.out + out.err and p.read_bytes() == before


# ---- 项目档案 ------------------------------------------------------------------------------------
def test_project_file_holds_the_project_and_is_replaced_on_rerun(ledger, tmp_path):
    p = copy(ledger, tmp_path)
    run(p, todo)
    res = run(p, project, selection=["P001"])
    assert res.summary["sheets"] == ["档案-P001"] and res.ok
    run(p, project, selection=["P001"])
    wb = openpyxl.load_workbook(p)
    assert [s for s in wb.sheetnames if s.startswith("档案-")] == ["档案-P001"]
    ws = wb["档案-P001"]
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.fitToWidth == 1
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    text = [v for row in cells for v in row if isinstance(v, str)]
    assert ws["B2"].value == "P001" and "幸福里小区1号楼" in ws["A1"].value
    for section in ("联系人", "保修部位", "报修记录", "回访记录", "2026年回访计划", "待办事项"):
        assert section in text, section
    # tickets: every one of the project, the open one first
    col = [r[0] for r in cells]
    tickets = [v for v in col if isinstance(v, str) and v.startswith("BX")]
    assert sorted(tickets) == ["BX2025-0001", "BX2026-0101", "BX2026-0103"]
    assert tickets[0] == "BX2026-0101"  # open
    assert "张经理" in text and "13800000001" in text  # the contact
    # this year's plan rows of the project: as many as the plan has
    plan_ws = wb["回访计划2026"]
    n_plan = sum(1 for r in range(4, plan_ws.max_row + 1) if plan_ws.cell(r, 3).value == "P001")
    start = col.index("2026年回访计划")
    end = col.index("待办事项")
    assert n_plan and sum(isinstance(v, dt.datetime) for v in col[start + 2:end]) == n_plan
    # open items: the project's lines of the to-do list
    assert "超期未到场" in col[end:] and "待签认" in col[end:]


def test_project_sheet_names_fit_excel():
    for pid in ("XM2024-01", "A/B", "项" * 40, "x[1]:*?\\"):
        name = project.sheet_name(pid)
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\") and name.startswith("档案-")


def test_a_new_workbook_runs_both_jobs(tmp_path):
    p = blank_book(tmp_path / "new.xlsm")
    res = run(p, todo)
    assert res.summary["items"] == 0 and openpyxl.load_workbook(p)[todo.TODO_SHEET]["A2"].value == "没有待办事项"
    res = run(p, project, selection=["P1"])
    assert not res.ok and "P1" in str(res.problems[0])


# ---- the other door: the live workbook (the recording COM fake beneath the real xlwings code) ------
def test_both_doors_write_the_same_sheets(ledger, tmp_path):
    from test_xlbook import excel, fake_cells, file_cells, xlbook

    p = copy(ledger, tmp_path)
    app, wb = excel(p)
    book = xlbook(wb)
    with FileBook.open(p) as fb:
        for mod, opts in ((todo, {}), (todo, {"extra": {"person": "李回访"}}), (project, {"selection": ["P001"]})):
            with book.busy():
                rx = mod.run(book, JobOptions(today=TODAY, **opts))
            rf = mod.run(fb, JobOptions(today=TODAY, **opts))
            assert rx.summary == rf.summary and [str(q) for q in rx.problems] == [str(q) for q in rf.problems]
        fb.save()
    for sheet in (todo.TODO_SHEET, "档案-P001"):
        assert fake_cells(wb, sheet) == file_cells(p, sheet), sheet
    # the lines link to their rows in Excel too (HYPERLINK to the same place as the file's link)
    data = wb.data.sheet(todo.TODO_SHEET)
    links = {k: re.search(r'"#(.*?)"', f).group(1) for k, f in data.formulas.items() if f.startswith("=HYPERLINK")}
    ws = openpyxl.load_workbook(p)[todo.TODO_SHEET]
    assert links and links == {(c.row, c.column): c.hyperlink.location for row in ws.iter_rows() for c in row
                                if c.hyperlink}


def test_the_plan_in_excel_has_its_dropdowns_and_overdue_highlight(ledger, tmp_path):
    from test_xlbook import excel, xlbook

    p = copy(ledger, tmp_path)
    app, wb = excel(p)
    with xlbook(wb).busy():
        plan.run(xlbook(wb), JobOptions(today=TODAY, year=2026))
    data = wb.data.sheet("回访计划2026")
    by_col = {areas[0][1]: v for areas, v in data.validations}
    assert by_col[13]["Formula1"] == "未回访,已回访,已取消,已改期" and by_col[13]["AlertStyle"] == 1
    assert by_col[12]["Formula1"] == "=人员名单" and by_col[12]["AlertStyle"] == 2  # a name not listed: asked
    assert by_col[14]["Type"] == 4 and by_col[14]["Formula1"] == "=DATE(1950,1,1)"  # 实际回访日期: a date
    (areas, cond), = data.conditions
    assert "TODAY()" in cond["Formula1"] and "未回访" in cond["Formula1"]


def test_the_ribbon_buttons(ledger, tmp_path, monkeypatch):
    """本周待办 and 项目档案 through xw.Book.caller(): 项目档案 takes the project of the active
    cell's row (here a ticket of P003 on 报修台账), and says so when the row has none."""
    import pyfuncs.macros as macros
    from pyfuncs import comfake
    from test_xlbook import excel

    p = copy(ledger, tmp_path)
    app, wb = excel(p)
    monkeypatch.setenv("AFTERCARE_LOG_DIR", str(tmp_path / "log"))
    with comfake.caller(wb):
        result = macros.todo()
        assert result.job == "todo" and "「待办」已生成" in app.message_boxes[-1][0]
        ws = wb.Worksheets("报修台账")
        ws.Activate()
        rows = {ws.Range(f"A{r}").Value: r for r in range(2, 10)}
        ws.Range(f"C{rows['BX2026-0104']}").Select()
        result = macros.project()
        assert result.summary["sheets"] == ["档案-P003"]
        assert "档案-P003" in app.message_boxes[-1][0]
        assert wb.ActiveSheet.Name == "档案-P003"  # shown
        # again from the file itself: the same project, the sheet replaced
        wb.Worksheets("档案-P003").Range("A1").Select()
        assert macros.project().summary["sheets"] == ["档案-P003"]
        assert [s.Name for s in wb.Worksheets].count("档案-P003") == 1
        # from a plan row and from a line of the 待办 sheet
        plan_ws = wb.Worksheets("回访计划2026")
        plan_ws.Activate()
        r = next(r for r in range(4, 60) if plan_ws.Range(f"C{r}").Value == "P002")
        plan_ws.Range(f"E{r}").Select()
        assert macros.project().summary["sheets"] == ["档案-P002"]
        todo_ws = wb.Worksheets("待办")
        todo_ws.Activate()
        r = next(r for r in range(5, 60) if todo_ws.Range(f"C{r}").Value == "P004")
        todo_ws.Range(f"B{r}").Select()
        assert macros.project().summary["sheets"] == ["档案-P004"]
        wb.Worksheets("设置").Activate()
        wb.Worksheets("设置").Range("B3").Select()
        n = len(app.message_boxes)
        assert macros.project() is None and "没有项目编号" in app.message_boxes[n][0]


def test_the_on_open_summary_is_off_by_default_and_never_a_message_box(ledger, tmp_path, monkeypatch):
    import pyfuncs.macros as macros
    from pyfuncs import comfake
    from pyfuncs.core.settings import SETTING_ROWS
    from test_xlbook import excel

    p = copy(ledger, tmp_path)
    app, wb = excel(p)
    monkeypatch.setenv("AFTERCARE_LOG_DIR", str(tmp_path / "log"))
    with comfake.caller(wb):
        assert macros.open_summary() is None and app.state["StatusBar"] is False
        ws = wb.Worksheets("设置")
        label = next(r.label for r in SETTING_ROWS if r.attr == "open_summary")
        row = next(r for r in range(2, 60) if ws.Range(f"A{r}").Value == label)
        assert ws.Range(f"B{row}").Value == "否"
        ws.Range(f"B{row}").Value = "是"
        text = macros.open_summary()  # today's list (the machine's date)
        assert text.startswith("回访保修待办：") and app.state["StatusBar"] == text
        assert not app.message_boxes  # the status bar only


def test_the_vba_reads_the_same_setting_label():
    """Workbook_Open asks Ribbon.AcOpenSummaryOn (VBA, ASCII: the label is spelled with ChrW) before
    starting Python: the ChrW codes spell the 设置 row's label, and the scheduled macro exists."""
    from pyfuncs.build import read_macro
    from pyfuncs.core.settings import SETTING_ROWS

    ribbon, this = read_macro("Ribbon"), read_macro("ThisWorkbook")
    body = ribbon.split("Public Function AcOpenSummaryOn")[1].split("End Function")[0]
    label_code = body.split("label = ")[1].split("\r\n    For")[0]
    spelled = "".join(chr(int(h, 16)) for h in re.findall(r"ChrW\(&H([0-9A-F]+)\)", label_code))
    assert spelled == next(r.label for r in SETTING_ROWS if r.attr == "open_summary")
    assert "If AcOpenSummaryOn() Then" in this and "!AcOpenSummary\"" in this and "Application.OnTime" in this
    assert "Public Sub AcOpenSummary()" in ribbon and "m.open_summary()" in ribbon
    yes = re.findall(r'v = ChrW\(&H([0-9A-F]+)\)', body)
    assert [chr(int(h, 16)) for h in yes] == ["是", "开"]  # what the Python setting reader takes as yes


# ---- the lists the dropdowns take ------------------------------------------------------------------
def test_libreoffice_resolves_the_project_list_after_a_job_saved_the_file(ledger, tmp_path):
    """项目编号列表 is a defined name on the table column (tblProjects[项目编号]): after a job saved
    the file, another spreadsheet engine still finds every project through it, and a project
    added to the table is in the list (the name follows the table)."""
    from _lo import convert
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import append_rows, read_table

    p = copy(ledger, tmp_path)
    with FileBook.open(p) as book:
        append_rows(book, read_table(book, TABLES["projects"]),
                    [dict(project_id="P006", name="新项目", accepted=D(2026, 10, 1))])
        book.save()
    run(p, todo)
    wb = openpyxl.load_workbook(p, keep_vba=True)
    assert {k: v.attr_text for k, v in wb.defined_names.items()} == {
        "项目编号列表": "tblProjects[项目编号]", "人员名单": "tblStaff[姓名]"}
    ws = wb.create_sheet("名称", 0)
    ws["A1"], ws["A2"] = "=COUNTA(项目编号列表)", "=INDEX(项目编号列表,6)"
    x = tmp_path / "names.xlsx"
    wb.save(x)
    rows = convert(x, "csv", tmp_path / "csv").read_text(encoding="utf-8").splitlines()
    assert rows[:2] == [str(len(PROJECTS) + 1), "P006"]


def test_the_selftest_checks_the_list_names(ledger, tmp_path):
    from pyfuncs.selftest import FAIL, PASS, run_selftest

    p = copy(ledger, tmp_path)
    rows = {c.name: c.result for c in run_selftest(p, cases=[], write=False).checks}
    assert rows["名称 项目编号列表"] == PASS and rows["名称 人员名单"] == PASS
    wb = openpyxl.load_workbook(p, keep_vba=True)
    del wb.defined_names["人员名单"]
    wb.save(p)
    rows = {c.name: c.result for c in run_selftest(p, cases=[], write=False).checks}
    assert rows["名称 人员名单"] == FAIL and rows["名称 项目编号列表"] == PASS


def test_check_flags_plan_states_outside_the_dropdown(ledger, tmp_path):
    from pyfuncs.jobs import check

    p = copy(ledger, tmp_path)
    ws = openpyxl.load_workbook(p)["回访计划2026"]
    a, b, c, e = [r for r in range(4, ws.max_row + 1) if ws.cell(r, 3).value][:4]
    with FileBook.open(p) as book:
        for row, col, value in ((a, 13, "完成"), (b, 13, "1月7号"), (c, 13, "已回访"), (e, 14, "2026/13/01")):
            book.write("回访计划2026", row, col, [[value]])
        book.save()
    res = run(p, check)
    got = [(q.row, q.column, q.level) for q in res.problems if q.sheet == "回访计划2026"]
    assert got == [(a, "状态", "错误"), (b, "状态", "错误"), (e, "实际回访日期", "错误")]
    assert "「完成」不是可选的状态" in str(next(q for q in res.problems if q.row == a and q.sheet == "回访计划2026"))


# ---- the demo workbook and a generated 20,000-ticket ledger ------------------------------------------
def _links_land_on_their_project(path: Path) -> int:
    wb = openpyxl.load_workbook(path)
    lines = todo_lines(path)
    for ln in lines:
        sheet, cell = ln["link"].rsplit("!", 1)
        ws = wb[sheet.strip("'")]
        header = 3 if sheet.startswith("'回访计划") else 1
        col = [c.value for c in ws[header]].index("项目编号") + 1
        assert ws.cell(int(cell[1:]), col).value == ln["pid"], ln
    return len(lines)


def test_the_demo_workbook_has_both_sheets(tmp_path):
    from pyfuncs.demo import make_demo

    out = make_demo(tmp_path / "demo.xlsm", today=TODAY)
    p = out["path"]
    s = out["jobs"]["todo"]
    assert s["items"] == _links_land_on_their_project(p) > 50
    assert set(s["by_kind"]) >= {"超期未到场", "回访逾期", "应到场", "待签认", "长期未结"}
    names = openpyxl.load_workbook(p).sheetnames
    assert out["jobs"]["project"]["sheets"] == [n for n in names if n.startswith("档案-")]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """The benchmark's ledger: 2,000 projects, 20,000 tickets (pyfuncs.bench.make_workbook)."""
    from pyfuncs.bench import make_workbook

    p = tmp_path_factory.mktemp("big") / "big.xlsm"
    make_workbook(p, 2000, 20000, TODAY)
    return p


def test_on_20000_tickets_the_list_agrees_with_the_refreshed_ledger(big):
    """After 刷新台账 (in the same book, unsaved), the to-do list's tickets agree with what the
    ledger's own columns say: 长期未结 exactly the rows whose 提醒 says so; every 超期未到场 has
    超期天数 > 0 and nobody on site; every reminded unsigned ticket is 待签认 (the list also has
    the ones not yet past the reminder days)."""
    from pyfuncs.jobs import refresh
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    with FileBook.open(big, lock=False) as book:
        d, _ = todo.load(book, TODAY)
        items = todo.gather(d)
        lay = todo.todo_layout(items, TODAY, d.days)
        # 项目档案 of the project with the most tickets: every open one, the latest 12 closed ones
        pid = d.repairs["project_id"].value_counts().index[0]
        mine = d.repairs["project_id"] == pid
        n_open = int((d.assessment.open & mine.to_numpy()).sum())
        shown = project.project_layout(pid, d, TODAY, None, items[items["project_id"] == pid])
        tickets_shown = [v for (r, c), (v, _) in shown.cells.items() if c == 1 and isinstance(v, str)
                         and v.startswith(("BX", "XM")) and v != pid]
        assert len(tickets_shown) == n_open + min(project.MAX_CLOSED, int(mine.sum()) - n_open)
        refresh.run(book, JobOptions(today=TODAY))
        rep = read_table(book, TABLES["repairs"]).df
    assert len(d.repairs) > 19000 and lay.meta["lines"] == len(items)
    tickets = items[items["sheet"] == "报修台账"]
    rows = {k: set(tickets.loc[tickets["kind"] == k, "row"].astype(int)) for k in todo.KINDS}
    flags = rep["flags"].fillna("")
    long_open = set(rep.index[flags.str.contains("长期未结")])
    listed_long = {int(r) for r, k, n in zip(tickets["row"], tickets["kind"], tickets["note"])
                   if k == "长期未结" or "长期未结" in n}
    assert long_open and listed_long == long_open
    late = rep.loc[sorted(rows["超期未到场"])]
    assert len(late) > 100 and (late["overdue"] > 0).all()
    assert late[["arrival", "done", "accepted"]].isna().all().all()
    reminded = set(rep.index[flags.str.contains("用户未签认")])
    assert reminded and reminded <= rows["待签认"] | rows["超期未到场"] | rows["长期未结"]


def test_the_plan_file_has_its_dropdowns_and_overdue_highlight(ledger):
    ws = openpyxl.load_workbook(ledger)["回访计划2026"]
    last = max(r for r in range(4, ws.max_row + 1) if ws.cell(r, 3).value)
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    state = next(dv for ref, dv in dvs.items() if ref.startswith("M4:"))
    assert state.formula1 == '"未回访,已回访,已取消,已改期"' and state.errorStyle == "stop" and state.showErrorMessage
    owner = next(dv for ref, dv in dvs.items() if ref.startswith("L4:"))
    assert owner.formula1 == "人员名单" and owner.errorStyle == "warning"  # stored without "=", as Excel does
    actual = next(dv for ref, dv in dvs.items() if ref.startswith("N4:"))
    assert actual.type == "date" and int(str(actual.sqref).split(":N")[1]) >= last
    (rng, rules), = [(str(cf.sqref), cf.rules) for cf in ws.conditional_formatting]
    assert rng.startswith("A4:") and "TODAY()" in rules[0].formula[0] and "$M4" in rules[0].formula[0]


def test_both_sheets_print_on_a4_as_laid_out(ledger, tmp_path):
    """Each new sheet printed by LibreOffice: the 待办 page A4 landscape, the project file A4
    portrait, one page wide, with what staff need to read on it."""
    import shutil
    import subprocess

    from _lo import convert

    if not shutil.which("pdfinfo") or not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdfinfo, pdftotext) not installed")
    p = copy(ledger, tmp_path)
    run(p, todo)
    run(p, project, selection=["P001"])
    for sheet, (w, h), words in ((todo.TODO_SHEET, (842, 595), ["本周待办", "张维修", "BX2026-0101", "报修台账 第"]),
                                 ("档案-P001", (595, 842), ["项目档案", "幸福里小区1号楼", "保修部位", "BX2026-0103"])):
        wb = openpyxl.load_workbook(p)
        for name in wb.sheetnames:
            if name != sheet:
                wb.remove(wb[name])
        x = tmp_path / f"{sheet}.xlsx"
        wb.save(x)
        pdf = convert(x, "pdf", tmp_path / "pdf")
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True).stdout
        sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
        assert sizes and all((round(float(a)), round(float(b))) == (w, h) for a, b in sizes), (sheet, info)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        for word in words:
            assert word in text, (sheet, word)
        # fit to width: the columns are not split over extra pages, so the small ledger stays on a few pages
        assert text.count("\f") <= 3, sheet


def test_retention_that_can_be_claimed_back_is_on_the_list(tmp_path):
    """质保金 (建质〔2017〕138号): a period ended within the 返还期限 is 可申请返还, one ended longer
    ago and not returned is 逾期未返还; returned and not-yet-due retention is not listed. Each line
    links to the project's row on 项目台账, under the project's 回访负责人 (else 项目经理)."""
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import append_rows, read_table

    money = {"P001": dict(settled_price=10_000_000, retention_ratio=0.03),             # due 2026-06-30: overdue
             "P002": dict(settled_price=2_000_000, retention_amount=60_000, defect_months=12),  # 2026-03-15
             "P003": dict(settled_price=1_000_000, retention_ratio=0.03, defect_start=D(2024, 11, 10)),  # 11-10
             "P004": dict(settled_price=1_000_000, retention_ratio=0.03, defect_months=12,
                          retention_returned=D(2026, 1, 5)),                           # returned
             "P005": dict(settled_price=1_000_000, retention_ratio=0.03)}              # due 2026-12-10
    p = tmp_path / "r.xlsm"
    blank_book(p)
    with FileBook.open(p) as book:
        append_rows(book, read_table(book, TABLES["projects"]), [dict(x, **money[x["project_id"]]) for x in PROJECTS])
        book.save()
    run(p, todo)
    lines = [ln for ln in todo_lines(p) if ln["kind"] == "质保金返还"]
    assert {ln["pid"]: ln["what"].split("\n")[0] for ln in lines} == {
        "P001": "质保金 300,000 元逾期未返还", "P002": "质保金 60,000 元逾期未返还", "P003": "质保金 30,000 元可申请返还"}
    ws = openpyxl.load_workbook(p)[TABLES["projects"].sheet]
    for ln in lines:
        sheet, cell = ln["link"].rsplit("!", 1)
        assert sheet.strip("'") == TABLES["projects"].sheet
        assert ws[cell.replace("$", "")].row and ws.cell(ws[cell.replace("$", "")].row, 1).value == ln["pid"]
    assert {ln["pid"]: ln["group"].split("（")[0] for ln in lines} == {"P001": "李回访", "P002": "赵工", "P003": "孙回访"}
