"""The jobs in Excel: XlBook and the ribbon macros under the real xlwings Windows code, on the
recording fake of Excel's COM objects (pyfuncs.comfake). Counts COM round trips; never times."""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import openpyxl
import pytest

from _io_fixtures import make_workbook
from pyfuncs import comfake
from pyfuncs.io.book import Formula, col_letter
from pyfuncs.io.filebook import FileBook
from pyfuncs.io.xlbook import XlBook
from pyfuncs.jobs import JobOptions
from pyfuncs.schema import plan_table

D = dt.date
TODAY = D(2026, 11, 21)
HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "=cmd|' /C calc'!A0", "+1", "-x", "@a"]
#: targets of issue 10 (the benchmark counts 2,000 projects / 20,000 tickets)
REFRESH_MAX, PLAN_MAX = 1000, 2000


def ledger(path: Path, *, seed: int = 4, n_projects: int = 10, n_tickets: int = 80, n_visits: int = 10,
           names: list[str] | None = None, problems: list[str] | None = None) -> Path:
    """The built workbook with seeded sample data (typed in: no computed column filled yet);
    ``names`` replace the first project names; ``problems`` are what the last visits found (new,
    unregistered visits: 登记回访 opens a repair ticket for each)."""
    from pyfuncs.demo import fill, sample_data

    make_workbook(path)
    data = sample_data(TODAY, seed=seed, n_projects=n_projects, n_tickets=n_tickets, n_visits=n_visits)
    if names:
        data["projects"].loc[data["projects"].index[:len(names)], "name"] = names
    if problems:
        v = data["visits"]
        rows = v.index[-len(problems):]
        v.loc[rows, "problems"] = problems
        v.loc[rows, "found"] = "是"  # 是否发现问题: staff said so (the text alone may not tell)
        v.loc[rows, ["registered", "ticket_id", "visit_id"]] = None
    with FileBook.open(path) as book:
        fill(book, data)
        book.save()
    return path


def excel(path: Path):
    """(fake Excel application, COM workbook) with the file loaded."""
    app = comfake.Application()
    wb = app.open(path)
    app.rec.reset()
    return app, wb


def xlbook(wb) -> XlBook:
    return XlBook(comfake.xlwings_book(wb))


def run_counted(app, wb, job: str, **kw) -> tuple[int, object]:
    """Round trips of one job as the ribbon runs it (busy state included), and its result."""
    import importlib

    book = xlbook(wb)
    app.rec.reset()
    with book.busy():
        result = importlib.import_module(f"pyfuncs.jobs.{job}").run(book, JobOptions(**kw))
    return app.rec.calls, result


def _norm(v):
    if isinstance(v, dt.datetime):
        v = v.replace(tzinfo=None)
        return v.date() if v.time() == dt.time() else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


_LINK = re.compile(r'^=HYPERLINK\("#(?:[^"]|"")*","((?:[^"]|"")*)"\)$')


def fake_cells(wb, sheet: str) -> dict:
    """Every non-empty cell of a fake sheet as staff would see it: formulas as their text (an
    internal HYPERLINK as the text it shows), values as Excel gives them."""
    data = wb.data.sheet(sheet)
    out = {}
    for key in set(data.values) | set(data.formulas):
        f = data.formulas.get(key)
        if f is not None:
            m = _LINK.match(f)
            out[key] = m.group(1).replace('""', '"') if m else f
        else:  # what COM's Range.Value gives, without counting it
            out[key] = _norm(comfake.Range(wb._app, wb.data, data, [key * 2])._value_of(key, False))
    return {k: v for k, v in out.items() if v not in (None, "")}


def file_cells(path: Path, sheet: str) -> dict:
    ws = openpyxl.load_workbook(path)[sheet]
    return {(c.row, c.column): _norm(c.value) for row in ws.iter_rows() for c in row
            if c.value not in (None, "")}


# --------------------------------------------------------------------------------------------------
# the fake itself, beneath the real xlwings code
# --------------------------------------------------------------------------------------------------
def test_the_fake_runs_beneath_the_real_xlwings_windows_engine():
    import xlwings

    xw = comfake.xlwindows()
    assert Path(xw.__file__).name == "_xlwindows.py" and Path(xw.__file__).parent == Path(xlwings.__file__).parent
    if sys.platform != "win32":  # the stand-ins were there for the import only
        assert not {"pywintypes", "pythoncom", "win32com", "win32api"} & set(sys.modules)
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    book = comfake.xlwings_book(wb)
    assert type(book.impl).__module__ == "xlwings._xlwindows"
    rng = book.sheets["表"].range("A1:B2")
    app.rec.reset()
    rng.value = [[1, "x"], [D(2026, 1, 2), None]]
    # the cost the issue measured: xlwings' Range.value = resolves sheet, book and app by name
    assert app.rec.calls > 100, app.rec.calls
    assert book.sheets["表"].range("A1:B2").value == [[1.0, "x"], [dt.datetime(2026, 1, 2), None]]


def test_the_fake_enters_strings_as_excel_does():
    app = comfake.Application()
    ws = app.add_workbook("t.xlsm", ["表"]).Worksheets("表")
    ws.Range("C1").NumberFormat = "@"
    ws.Range("A1:C3").Value = (("=1+1", "'=1+1", "=1+1"), ("0012", "2026-11-21", "-x"), ("TRUE", "#N/A", "项目"))
    assert ws.Range("A1").Formula == "=1+1" and ws.Range("A1").Value is None  # a formula; not calculated
    assert ws.Range("B1").Value == "=1+1" and ws.Range("B1").PrefixCharacter == "'"
    assert ws.Range("C1").Value == "=1+1" and ws.Range("C1").HasFormula is False  # text format
    assert ws.Range("A2").Value == 12.0
    assert ws.Range("B2").Value == dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)  # a date, formatted as one
    assert ws.Range("C2").HasFormula is True and ws.Range("C2").Formula == "=-x"
    assert ws.Range("A3").Value is True and ws.Range("B3").Value == -2146826246  # #N/A
    assert ws.Range("A1:C3").HasFormula is None  # some
    with pytest.raises(TypeError):
        ws.Range("D1").Value = dt.date(2026, 1, 1)  # pywin32 takes datetimes, not dates
    with pytest.raises(comfake.ComError):
        ws.Range(",".join(f"A{i}" for i in range(1, 80)))  # Excel's Range() takes ≤ 255 characters


# --------------------------------------------------------------------------------------------------
# the same jobs, the same cells, in a handful of round trips
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return ledger(tmp_path_factory.mktemp("small") / "s.xlsm")


def test_xlbook_runs_the_same_job_with_block_calls(small, tmp_path):
    """XlBook (the ribbon's book) on the fake gives the same summary, problems and cells as
    FileBook on the file, in a number of round trips that has nothing to do with 80 tickets."""
    from pyfuncs.jobs import refresh

    p = tmp_path / "x.xlsm"
    p.write_bytes(small.read_bytes())
    app, wb = excel(p)
    calls, res_x = run_counted(app, wb, "refresh", today=TODAY)
    with FileBook.open(p) as book:
        res_f = refresh.run(book, JobOptions(today=TODAY))
        book.save()
    assert res_x.summary == res_f.summary and res_x.summary["cells_written"] > 300
    assert [str(q) for q in res_x.problems] == [str(q) for q in res_f.problems]
    for sheet in ("保修条款", "报修台账"):
        assert fake_cells(wb, sheet) == file_cells(p, sheet)
    assert calls < 200, app.rec.top()


def test_every_ribbon_job_leaves_the_same_cells_as_on_the_file(small, tmp_path):
    """plan, refresh, visits, report, forms and check (with its sheet) in a row: every sheet of the
    fake holds what the file holds (values; formulas as their text; links as the text shown)."""
    import importlib

    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    p = tmp_path / "all.xlsm"
    p.write_bytes(small.read_bytes())
    app, wb = excel(p)
    steps = [("plan", {"year": 2027}), ("refresh", {}), ("visits", {}), ("report", {}), ("forms", {}),
             ("check", {"sheet": True})]
    book = xlbook(wb)
    with FileBook.open(p) as fb:
        for job, kw in steps:
            extra = {"sheet": kw.pop("sheet")} if "sheet" in kw else {}
            if job == "forms":  # a visit form, two repair work orders, an expiry notice
                tickets = read_table(fb, TABLES["repairs"]).df["ticket_id"].dropna().tolist()[:2]
                terms = read_table(fb, TABLES["terms"]).df.dropna(subset=["end"])
                notice = f"notice:{terms['project_id'].iloc[0]}:{terms['end'].iloc[0]:%Y-%m}"
                kw = {"selection": ["plan:2027:4"] + [f"repair:{t}" for t in tickets] + [notice]}
            opts = JobOptions(today=TODAY, extra=extra, **kw)
            mod = importlib.import_module(f"pyfuncs.jobs.{job}")
            with book.busy():
                rx = mod.run(book, opts)
            rf = mod.run(fb, opts)
            assert rx.summary == rf.summary, job
            assert [str(q) for q in rx.problems] == [str(q) for q in rf.problems], job
            if job == "forms":
                assert rx.summary["count"] == 4 and not rx.problems, (rx.summary, rx.problems)
        fb.save()
    names = openpyxl.load_workbook(p).sheetnames
    assert [s.Name for s in wb.Worksheets] == names
    for sheet in names:
        assert fake_cells(wb, sheet) == file_cells(p, sheet), sheet


def test_xlbook_finds_merged_areas_by_bisection(tmp_path):
    p = make_workbook(tmp_path / "m.xlsm")
    app, wb = excel(p)
    data = wb.data.sheet("报修台账")
    for r in range(2, 3000):
        data.values[(r, 1)] = f"BX{r}"
    data.merges = [(40, 7, 41, 7), (2500, 2, 2500, 4)]
    book = xlbook(wb)
    app.rec.reset()
    assert book.merged("报修台账") == [(40, 7, 41, 7), (2500, 2, 2500, 4)]
    assert app.rec.calls < 250  # not one per cell (3000 × 23)
    app.rec.reset()
    assert book.merged("报修台账") == [(40, 7, 41, 7), (2500, 2, 2500, 4)] and app.rec.calls == 0  # kept


def test_a_block_write_is_a_few_round_trips_whatever_its_size():
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    book = xlbook(wb)
    book.sheet_names()
    for n in (10, 5000):
        app.rec.reset()
        book.write("表", 2, 3, [[i, f"行{i}", D(2026, 1, 1) + dt.timedelta(days=i)] for i in range(n)],
                   [None, None, "yyyy-mm-dd"])
        assert app.rec.calls == 4, app.rec.top()  # Range + Value=, Range + NumberFormat=
    ws = wb.Worksheets("表")
    last = D(2026, 1, 1) + dt.timedelta(days=4999)
    assert ws.Range("E5001").Value == dt.datetime(last.year, last.month, last.day, tzinfo=dt.timezone.utc)
    assert ws.Range("E5001").NumberFormat == "yyyy-mm-dd"


def test_scattered_cells_are_written_in_blocks_and_keep_what_lies_between(tmp_path):
    """write_cells over 1,000 rows: one block per column from the first changed row to the last;
    formulas, error values and merged cells between them are never rewritten, and rows the book
    never read are not guessed."""
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    ws = wb.Worksheets("表")
    ws.Range("A1:C1000").Value = tuple((f"'{i:04d}", i * 1.5, "旧") for i in range(1, 1001))
    ws.Range("B500").Formula = "=B499*2"
    ws.Range("C600").Value = "#N/A"
    book = xlbook(wb)
    book.read("表", (1, 1, 1000, 3))
    app.rec.reset()
    cells = {(r, c): f"新{r}" for r in range(1, 1001, 7) for c in (2, 3)}
    book.write_cells("表", cells, {2: None, 3: None})
    # one HasFormula, one SpecialCells for where the formula is, and a few blocks
    assert app.rec.calls <= 16, app.rec.top()
    assert ws.Range("B500").Formula == "=B499*2" and ws.Range("C600").Formula == "#N/A"
    assert ws.Range("A7").Value == "0007" and ws.Range("B9").Value == 13.5 and ws.Range("C10").Value == "旧"
    assert ws.Range("B8").Value == "新8" and ws.Range("C995").Value == "新995" and ws.Range("C996").Value == "旧"
    # rows this book did not read: written run by run, nothing guessed
    book2 = xlbook(wb)
    book2.write_cells("表", {(2000, 1): "x", (2002, 1): "y"})
    assert ws.Range("A2001").Value is None and ws.Range("A2002").Value == "y"


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sizes")
    return {"small": ledger(d / "small.xlsm", seed=11, n_projects=25, n_tickets=250, n_visits=25),
            "large": ledger(d / "large.xlsm", seed=11, n_projects=100, n_tickets=1000, n_visits=100)}


def _counts(path: Path) -> dict[str, int]:
    app, wb = excel(path)
    first, _ = run_counted(app, wb, "refresh", today=TODAY)
    morning, res = run_counted(app, wb, "refresh", today=TODAY + dt.timedelta(days=1))
    assert res.summary["cells_written"] > 0  # overdue days moved on overnight: scattered cells
    plan, _ = run_counted(app, wb, "plan", today=TODAY, year=2027)
    again, _ = run_counted(app, wb, "plan", today=TODAY, year=2027)
    return {"first": first, "morning": morning, "plan": plan, "plan again": again}


def test_the_ribbons_forms_button_prints_the_selected_plan_rows(ribbon):
    """打印回访单 with rows selected on the plan sheet: xw.Book.caller(), the active sheet and
    the selection through the real xlwings code, one form sheet per selected visit."""
    import pyfuncs.macros as macros

    app, wb = ribbon
    assert macros.plan() is not None
    year = dt.date.today().year
    ws = wb.Worksheets(f"回访计划{year}")
    ws.Activate()
    ws.Range("A4:B5").Select()
    result = macros.forms()
    assert result.summary["count"] >= 1 and len(app.message_boxes) == 2
    assert "生成了" in app.message_boxes[-1][0]
    assert all(name in [s.Name for s in wb.Worksheets] for name in result.summary["forms"])
    # Excel prints the forms into one PDF beside the workbook (as aftercare forms --pdf does)
    ((sheets, pdf),) = app.exported
    assert sheets == result.summary["forms"] and Path(pdf).parent == Path(wb.FullName).parent
    assert Path(pdf).name.startswith("ribbon 单据 ") and Path(pdf).suffix == ".pdf" and Path(pdf).is_file()
    assert f"{len(sheets)} 份单据已另存为 PDF：{pdf}" in app.message_boxes[-1][0]


def test_forms_pdf_is_said_when_excel_cannot_write_it(ribbon, monkeypatch):
    import pyfuncs.macros as macros

    app, wb = ribbon
    macros.plan()
    ws = wb.Worksheets(f"回访计划{dt.date.today().year}")
    ws.Activate()
    ws.Range("A4:B4").Select()

    def refuse(self, *a, **k):
        raise comfake._fail("Document not saved. The document may be open.", comfake.E_EXCEL)

    monkeypatch.setattr(comfake.SheetGroup, "ExportAsFixedFormat", refuse)
    result = macros.forms()
    assert result is not None and result.summary["count"] >= 1  # the forms are written all the same
    text = app.message_boxes[-1][0]
    assert "单据已生成，但没有另存为 PDF" in text and "Ctrl+P" in text


def test_round_trips_do_not_grow_with_the_number_of_rows(two_sizes):
    """Four times the projects and tickets: the same round trips (within a few), within the
    targets (refresh ≤ 1,000 the first time and the next morning, plan ≤ 2,000). Reading back a
    plan sheet finds its merged subtotal rows by bisection, about log2(cells) calls per merged
    area: that count grows by a few per cent when the rows are four times as many."""
    small, large = _counts(two_sizes["small"]), _counts(two_sizes["large"])
    for job, limit, slack in (("first", REFRESH_MAX, 0.05), ("morning", REFRESH_MAX, 0.05),
                              ("plan", PLAN_MAX, 0.05), ("plan again", PLAN_MAX, 0.2)):
        assert large[job] <= limit, (job, large)
        assert abs(large[job] - small[job]) <= slack * small[job], (job, small, large)


# --------------------------------------------------------------------------------------------------
# the ribbon: Excel's state, the status bar, messages, failures
# --------------------------------------------------------------------------------------------------
STATE = ("ScreenUpdating", "Calculation", "EnableEvents", "DisplayAlerts", "Cursor", "StatusBar")


def _state(app):
    return {k: app.state[k] for k in STATE}


@pytest.fixture
def ribbon(small, tmp_path, monkeypatch):
    """(app, wb) with ``xw.Book.caller()`` answering the fake workbook, and the log in tmp."""
    p = tmp_path / "ribbon.xlsm"
    p.write_bytes(small.read_bytes())
    app, wb = excel(p)
    monkeypatch.setenv("AFTERCARE_LOG_DIR", str(tmp_path / "log"))
    with comfake.caller(wb):
        yield app, wb


def test_ribbon_macros_run_the_jobs_and_show_problems(ribbon):
    """pyfuncs.macros.<job>() through xw.Book.caller(): the same job runs, staff get one message
    box per job, a long problem list goes to the 检查结果 sheet."""
    import pyfuncs.macros as macros

    app, wb = ribbon
    before = _state(app)
    result = macros.refresh()
    assert result.job == "refresh" and len(app.message_boxes) == 1
    text, title, style = app.message_boxes[-1]
    assert "刷新完成" in text and title == "回访保修" and style & 0x40  # information icon
    result = macros.check()
    assert result.job == "check" and "数据检查完成" in app.message_boxes[-1][0]
    sheet = wb.Worksheets("检查结果")
    assert sheet.Range("E2").Value == "问题" and "错误" in sheet.Range("A1").Value
    assert _state(app) == before and app.state["StatusBar"] is False
    text = macros.message_text(result)
    assert "问题" in text and "第" in text


def test_a_job_runs_with_screen_events_and_calculation_off_and_shows_its_steps(ribbon):
    import pyfuncs.macros as macros

    app, wb = ribbon
    app.StatusBar = "另一个宏的提示"
    app.status_history.clear()
    before = _state(app)
    app.rec.reset()
    macros.refresh()
    # nothing repainted, no event handler ran, nothing recalculated while the job wrote
    assert (app.screen_changes, app.events, app.recalcs, app.dialogs) == (0, 0, 0, [])
    steps = [s for s in app.status_history if s]
    assert steps.pop(0) == "回访保修：正在备份工作簿…"  # Excel's copy before the job (see below)
    assert steps[:5] == [f"回访保修：正在{t}（{i}/5）…" for i, t in
                         enumerate(("读取设置和节假日", "读取项目台账", "计算保修到期日", "刷新报修台账", "写入报修台账"), 1)]
    assert app.status_history[-1] == "另一个宏的提示"  # the status bar as it was
    assert _state(app) == before
    assert app.rec.calls < REFRESH_MAX


def test_a_failing_job_restores_excel_and_ends_in_one_chinese_message(ribbon, monkeypatch, tmp_path):
    import pyfuncs.macros as macros
    from pyfuncs.jobs import refresh

    app, wb = ribbon
    before = _state(app)

    def broken(*a, **k):
        raise ValueError("坏了 boom")

    monkeypatch.setattr(refresh, "compute_repairs", broken)
    assert macros.refresh() is None  # no exception reaches xlwings (it would show a traceback box)
    assert _state(app) == before
    assert len(app.message_boxes) == 1
    text, _, style = app.message_boxes[0]
    assert "「刷新台账」没有完成" in text and "ValueError" in text and "Traceback" not in text
    assert style & 0x30  # the warning icon
    log = tmp_path / "log" / "aftercare.log"
    assert str(log) in text
    logged = log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "ValueError: 坏了 boom" in logged and "ribbon.xlsm" in logged


def test_a_refused_workbook_is_one_message_and_no_log(ribbon, monkeypatch, tmp_path):
    import pyfuncs.macros as macros
    from pyfuncs.io.book import BookError
    from pyfuncs.jobs import refresh

    app, _ = ribbon
    before = _state(app)

    def refuse(*a, **k):
        raise BookError("工作簿中没有工作表「报修台账」")

    monkeypatch.setattr(refresh, "read_settings", refuse)
    assert macros.refresh() is None
    assert [m[0] for m in app.message_boxes] == ["工作簿中没有工作表「报修台账」"]
    assert _state(app) == before and not (tmp_path / "log").exists()


def test_busy_restores_every_setting_when_the_block_raises():
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    book = xlbook(wb)
    before = _state(app)
    with pytest.raises(RuntimeError):
        with book.busy():
            assert app.state["ScreenUpdating"] is False and app.state["Calculation"] == -4135
            assert app.state["EnableEvents"] is False and app.state["DisplayAlerts"] is False
            book.progress(1, 2, "写入")
            raise RuntimeError("x")
    assert _state(app) == before


# --------------------------------------------------------------------------------------------------
# text is text
# --------------------------------------------------------------------------------------------------
def test_staff_text_is_never_entered_as_a_formula(tmp_path):
    """Project names that Excel would take as formulas (or numbers) flow into the plan and 统计
    as text; only the jobs' own formulas (the plan's subtotals) are formulas."""
    p = ledger(tmp_path / "h.xlsm", seed=5, n_projects=12, n_tickets=60, names=HOSTILE, problems=HOSTILE)
    app, wb = excel(p)
    data = wb.data.sheet("项目台账")
    assert not data.formulas and {data.values[(r, 2)] for r in range(2, 7)} == set(HOSTILE)
    run_counted(app, wb, "plan", today=TODAY, year=2027)
    run_counted(app, wb, "refresh", today=TODAY)
    # 登记回访 copies what the visits found into new repair tickets (a table write)
    _, res = run_counted(app, wb, "visits", today=TODAY)
    assert res.summary, res
    tickets = wb.data.sheet("报修台账")
    assert set(HOSTILE) <= set(tickets.values.values()) and not tickets.formulas
    run_counted(app, wb, "report", today=TODAY)
    stats = {v for v in wb.data.sheet("统计").values.values() if isinstance(v, str)}
    assert set(HOSTILE) <= stats
    plan = wb.data.sheet("回访计划2027")
    name_of = {data.values[(r, 1)]: data.values[(r, 2)] for r in range(2, 7)}
    hits = [(r, name_of[pid]) for (r, c), pid in plan.values.items() if c == 3 and pid in name_of]
    assert hits and all(plan.values[(r, 4)] == name and (r, 4) not in plan.formulas for r, name in hits)
    for sheet in ("回访计划2027", "统计", "报修台账"):
        for key, f in wb.data.sheet(sheet).formulas.items():
            assert not any(h in f for h in HOSTILE), (sheet, key, f)
    assert any(f.startswith('="') and "COUNTA(" in f for f in plan.formulas.values())  # our subtotals
    # plain text stays plain, without a quote prefix
    assert any(v == "实地" and k not in plan.prefix for k, v in plan.values.items())


def test_write_keeps_text_as_text_and_formulas_as_formulas():
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    book = xlbook(wb)
    texts = HOSTILE + ["0012", "2026-11-21", "TRUE", "#N/A", "１２", "超期3天", "BX2026-0001", "2026年11月"]
    book.write("表", 1, 1, [[t] for t in texts] + [[Formula("=1+1")]])
    ws = wb.Worksheets("表")
    got = [ws.Range(f"A{i}").Value for i in range(1, len(texts) + 1)]
    assert got == texts
    assert ws.Range(f"A1:A{len(texts)}").HasFormula is False
    assert ws.Range(f"A{len(texts) + 1}").Formula == "=1+1"
    assert ws.Range("A14").PrefixCharacter == ""  # 超期3天: nothing Excel would change, no quote
    assert book.read("表", (1, 1, len(texts), 1)) == [[t] for t in texts]


# --------------------------------------------------------------------------------------------------
# generated sheets
# --------------------------------------------------------------------------------------------------
def test_the_plan_sheet_renders_in_excel_with_its_print_setup():
    """The year's plan put on a live workbook: values, text phone numbers, formulas, outline by
    month, print titles, landscape, frozen header, formats, in far fewer calls than cells."""
    import pandas as pd

    from pyfuncs.jobs import plan
    from pyfuncs.jobs.plan import build_plan, merge_plan

    projects = pd.DataFrame([
        {"project_id": "P1", "name": "一号楼", "client": "甲", "contact": "张", "phone": "0101", "visit_owner": "李",
         "manager": "王"},
        {"project_id": "P2", "name": "=二号楼", "client": "乙", "contact": "赵", "phone": "2", "visit_owner": None,
         "manager": "钱"}])
    parts = ["屋面防水", "屋面防水、防渗漏、供热系统、供冷系统、电气管线、给排水管道、设备安装、装修工程", "屋面防水"]
    visits = pd.DataFrame({"date": pd.to_datetime(["2026-03-02", "2026-05-15", "2026-05-20"]),
                           "project_id": ["P1", "P2", "P1"], "kinds": ["例行回访"] * 3, "parts": parts})
    lay = plan.plan_layout(merge_plan(build_plan(visits, projects), None), 2026, TODAY)
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["回访记录", "统计"])
    book = xlbook(wb)
    app.rec.reset()
    book.put_sheet(lay, after="回访记录")
    calls = app.rec.calls
    assert [s.Name for s in wb.Worksheets] == ["回访记录", "回访计划2026", "统计"]
    ws = wb.Worksheets("回访计划2026")
    assert ws.Range("A1").Value == "2026年度工程回访计划表" and ws.Range("B4").Value.date() == D(2026, 3, 2)
    assert ws.Range("G4").Value == "0101" and ws.Range("G4").HasFormula is False  # phone numbers stay text
    names = {ws.Range(f"D{r}").Value for r in range(4, 9)}
    assert "=二号楼" in names
    data = wb.data.sheet("回访计划2026")
    subtotal = sorted(k for k, f in data.formulas.items() if "COUNTA" in f)
    assert subtotal == [(5, 4), (8, 4), (9, 1)]  # one per month (March, May), the year's total
    assert {r for r, lv in data.row_levels.items() if lv == 1} == {4, 6, 7}  # month groups
    assert data.page_setup["PrintTitleRows"] == "$3:$3" and data.page_setup["Orientation"] == 2
    assert data.page_setup["FitToPagesWide"] == 1 and app.state["PrintCommunication"] is True
    assert data.freeze == (3, 0)
    assert ws.Range("A3").Font.Bold is True and ws.Range("A3").Interior.Color == 0xF2E1D9
    last = col_letter(len(plan_table(2026).columns))  # the title spans the plan's columns
    assert ws.Range(f"A3:{last}4").Borders.LineStyle == 1 and ws.Range("A1").Borders.LineStyle == -4142
    assert ws.Range("B4").NumberFormat == "yyyy-mm-dd" and ws.Range("A1").MergeArea.Address == f"$A$1:${last}$1"
    # the wrapped parts row is fitted by Excel itself; the title and header keep their heights
    assert lay.fitted_rows == {6} and data.autofit == [("rows", [(6, 1, 6, comfake.MAX_COLS)])]
    assert data.row_heights == {1: 30.0, 3: 20.0, lay.meta["sign_row"]: 28.0}  # + 编制/审核/批准
    assert calls < 150, app.rec.top()


def test_a_regenerated_sheet_is_cleared_in_place(tmp_path):
    """Running plan again in Excel keeps the sheet (tab, code name) and leaves nothing of the old
    content: no stale rows, merges, groups, widths or charts."""
    from pyfuncs.layout import Layout

    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["甲", "乙"])
    book = xlbook(wb)
    big = Layout("乙")
    for r in range(1, 50):
        big.put(r, 1, f"旧{r}", "cell")
    big.merge(1, 1, 1, 3)
    big.outline = {r: 1 for r in range(5, 20)}
    big.widths = {2: 30}
    book.put_sheet(big)
    code = wb.Worksheets("乙").CodeName
    small = Layout("乙")
    small.put(1, 1, "新", "title")
    book = xlbook(wb)
    book.put_sheet(small)
    data = wb.data.sheet("乙")
    assert wb.Worksheets("乙").CodeName == code and [s.Name for s in wb.Worksheets] == ["甲", "乙"]
    assert data.values == {(1, 1): "新"} and data.merges == [] and data.row_levels == {}
    assert data.col_widths == {}


def test_links_dropdowns_conditional_fills_and_charts_of_a_layout():
    from pyfuncs.layout import ChartSpec, CondFill, Layout, Validation

    lay = Layout("统计")
    lay.put(1, 1, "月份", "header")
    lay.put(1, 2, "报修", "header")
    for m in range(1, 7):
        lay.put(m + 1, 1, f"{m}月", "cell")
        lay.put(m + 1, 2, m * 3, "int")
    lay.put(9, 1, '报修"台账', "link")
    lay.link(9, 1, "报修台账", "A7")
    lay.validations.append(Validation("C2:C7", choices=("已回访", "未回访"), prompt="选一个"))
    lay.cond_fills.append(CondFill("B2:B7", "=B2>10", "FFC7CE"))
    lay.charts.append(ChartSpec("col", "各月报修", "D2", data=(2, 1, 2, 7), cats=(1, 2, 1, 7)))
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["报修台账"])
    xlbook(wb).put_sheet(lay)
    data = wb.data.sheet("统计")
    assert data.formulas[(9, 1)] == '=HYPERLINK("#\'报修台账\'!A7","报修""台账")'
    assert data.validations == [([(2, 3, 7, 3)], {"Type": 3, "Formula1": "已回访,未回访", "InputMessage": "选一个",
                                                  "ShowInput": True, "AlertStyle": 1, "Formula2": None})]
    (areas, cond), = data.conditions
    assert areas == [(2, 2, 7, 2)] and cond["Formula1"] == "=B2>10"
    assert cond["object"].props["Interior"].props["Color"] == 0xCEC7FF
    (chart,) = data.charts
    assert chart["Chart"].props["ChartType"] == 51 and chart["Chart"].props["ChartTitle"].props["Text"] == "各月报修"


def test_formula_cells_scattered_between_changes_are_found_area_by_area():
    """Many separate formula cells in the span of a column: SpecialCells' address would be long,
    so the areas are asked one by one; none of the formulas is overwritten."""
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["表"])
    ws = wb.Worksheets("表")
    ws.Range("A1:A400").Value = tuple((f"旧{i}",) for i in range(1, 401))
    for r in range(3, 400, 6):
        ws.Range(f"A{r}").Formula = f"=ROW()*{r}"
    book = xlbook(wb)
    book.read("表", (1, 1, 400, 1))
    app.rec.reset()
    book.write_cells("表", {(r, 1): f"新{r}" for r in range(1, 401, 6)})
    assert app.rec.members["Range.Areas"] == 1 and app.rec.members["Areas.Next"] == 66  # the formulas among rows 1-397
    assert all(ws.Range(f"A{r}").Formula == f"=ROW()*{r}" for r in range(3, 400, 6))
    assert ws.Range("A7").Value == "新7" and ws.Range("A8").Value == "旧8"


def test_sheet_and_table_primitives_on_excel():
    """new_sheet (empty or as a copy of a template, at a tab position), delete_sheet, add_table,
    resize_table, page_setup and column widths: without a single prompt from Excel."""
    app = comfake.Application()
    wb = app.add_workbook("t.xlsm", ["甲", "乙"])
    book = xlbook(wb)
    book.write("甲", 1, 1, [["项目编号", "项目名称"], ["P1", "一号楼"]])
    book.add_table("甲", "tblX", (1, 1, 2, 2))
    book.new_sheet("丙", index=1)
    book.new_sheet("丁", template="甲")
    assert book.sheet_names() == ["甲", "丙", "乙", "丁"]
    assert [s.Name for s in wb.Worksheets] == ["甲", "丙", "乙", "丁"]
    assert book.read("丁", (1, 1, 2, 2)) == [["项目编号", "项目名称"], ["P1", "一号楼"]]
    book.new_sheet("丙", template="甲")  # replaces 丙 where it was
    assert book.sheet_names() == ["甲", "丙", "乙", "丁"] and book.table_ref("丙", "tblX") is None
    book.delete_sheet("乙")
    book.delete_sheet("没有这张表")
    assert book.sheet_names() == ["甲", "丙", "丁"]
    book.write("甲", 3, 1, [["P2", "二号楼"]])
    book.resize_table("甲", "TBLX", (1, 1, 3, 2))
    assert xlbook(wb).table_ref("甲", "tblx") == (1, 1, 3, 2)
    book.page_setup("甲", landscape=True, repeat_rows="1:1")
    book.set_column_widths("甲", {1: 12, 2: 30, 3: 12})
    data = wb.data.sheet("甲")
    assert data.page_setup["Orientation"] == 2 and data.page_setup["PrintTitleRows"] == "$1:$1"
    assert data.col_widths == {1: 12.0, 2: 30.0, 3: 12.0}
    assert app.dialogs == [] and app.state["DisplayAlerts"] is True


# --------------------------------------------------------------------------------------------------
# the ribbon's backup before a job (Excel cannot undo a macro)
# --------------------------------------------------------------------------------------------------
def test_a_ribbon_job_saves_a_copy_of_the_workbook_before_it_changes_anything(ribbon, tmp_path):
    """Workbook.SaveCopyAs into .aftercare-backup under the backup's name (through a temporary
    name), before the job writes: the copy is what 恢复上一版 / aftercare restore find."""
    import pyfuncs.macros as macros
    from pyfuncs.io.backups import list_backups
    from pyfuncs.io.safe import BACKUP_DIR

    app, wb = ribbon
    path = tmp_path / "ribbon.xlsm"
    assert list_backups(path) == []
    writes_before_copy = []
    original_save = comfake.Workbook.SaveCopyAs

    def spy(self, Filename):  # noqa: N803
        writes_before_copy.append(app.state["ScreenUpdating"])
        cell = self.Worksheets("报修台账").Range("A1").Value  # the ledger is untouched at this point
        assert cell == wb.Worksheets("报修台账").Range("A1").Value
        return original_save(self, Filename)

    comfake.Workbook.SaveCopyAs = spy
    try:
        macros.refresh()
        macros.refresh()
    finally:
        comfake.Workbook.SaveCopyAs = original_save
    assert len(app.saved_copies) == 2 and writes_before_copy == [False, False]
    for name in app.saved_copies:  # Excel wrote to a temporary name beside the backups
        assert Path(name).parent == tmp_path / BACKUP_DIR and Path(name).name.startswith(".~aftercare-tmp-")
    backups = list_backups(path)
    assert len(backups) == 2 and all(b.path.read_bytes() == path.read_bytes() for b in backups)
    assert not [p for p in (tmp_path / BACKUP_DIR).iterdir() if p.name.startswith(".~")]
    text = app.message_boxes[-1][0]
    assert "刷新完成" in text and "作业前的工作簿已备份" in text and backups[0].path.name in text


def test_check_makes_no_backup_and_a_failed_job_names_its_backup(ribbon, monkeypatch, tmp_path):
    import pyfuncs.macros as macros
    from pyfuncs.io.backups import list_backups
    from pyfuncs.jobs import refresh

    app, _ = ribbon
    macros.check()
    assert app.saved_copies == [] and "备份" not in app.message_boxes[-1][0]

    def broken(*a, **k):
        raise ValueError("坏了")

    monkeypatch.setattr(refresh, "compute_repairs", broken)
    assert macros.refresh() is None
    (bak,) = list_backups(tmp_path / "ribbon.xlsm")
    assert f"作业开始前的工作簿已备份为：{bak.path}" in app.message_boxes[-1][0]


@pytest.mark.parametrize("folder, said", [("https://contoso.sharepoint.com/sites/售后", "网络位置"),
                                          ("", "尚未保存为文件")])
def test_a_workbook_without_a_local_file_runs_the_job_and_says_there_is_no_backup(ribbon, folder, said):
    import pyfuncs.macros as macros

    app, wb = ribbon
    wb.data.folder = folder
    result = macros.refresh()
    assert result is not None and app.saved_copies == []
    text = app.message_boxes[-1][0]
    assert "刷新完成" in text and said in text and "没有备份" in text or "未做本地备份" in text


def test_a_backup_that_cannot_be_written_does_not_stop_the_job(ribbon, monkeypatch):
    import pyfuncs.macros as macros

    app, _ = ribbon

    def full(self, Filename):  # noqa: N803
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(comfake.Workbook, "SaveCopyAs", full)
    assert macros.refresh() is not None
    assert "未能备份工作簿" in app.message_boxes[-1][0]
