"""案例库 (``cases``): the marked rows on the 案例库 sheet through the file door and the COM fake,
经验总结 kept across runs, staff text kept as text."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from pyfuncs import cli, comfake
from pyfuncs.io.filebook import FileBook
from pyfuncs.io.xlbook import XlBook
from pyfuncs.jobs import JobOptions, cases
from pyfuncs.schema import TABLES
from pyfuncs.tables import read_table

TODAY = dt.date(2026, 11, 21)
HOSTILE = '=HYPERLINK("http://evil.example","点我")'
R, V = TABLES["repairs"], TABLES["visits"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from pyfuncs.demo import make_demo

    p = tmp_path_factory.mktemp("demo") / "demo.xlsm"
    make_demo(p, today=TODAY)
    return p


def copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def marked(path: Path) -> tuple[list[int], list[int]]:
    with FileBook.open(path, lock=False) as b:
        rep, vis = read_table(b, R), read_table(b, V)
    return ([int(r) for r in rep.df.index[(rep.df["typical"] == "是").to_numpy()]],
            [int(r) for r in vis.df.index[(vis.df["typical"] == "是").to_numpy()]])


def case_rows(ws) -> list[list]:
    """The rows of block 一 (the cases), as values, under their header row."""
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[0] == "序号")
    out = []
    for r in rows[top + 1:]:
        if not isinstance(r[0], int):
            break
        out.append(r)
    return out


def col(name: str) -> int:
    return cases.HEADERS.index(name)


def test_cli_collects_every_marked_row_with_links_back_and_to_photos(demo, tmp_path):
    p = copy(demo, tmp_path / "a.xlsm")
    reps, viss = marked(p)
    assert len(reps) >= 10 and len(viss) == 3
    assert cli.main(["cases", str(p), "--today", "2026-11-21"]) == 0
    wb = openpyxl.load_workbook(p)
    assert "案例库" in wb.sheetnames and wb.sheetnames.index("案例库") == wb.sheetnames.index("统计") + 1
    ws = wb["案例库"]
    rows = case_rows(ws)
    assert len(rows) == len(reps) + len(viss)
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号") + 1
    # every case links back to its source row, and that row is the one marked 典型
    sources = {}
    for i, row in enumerate(rows):
        link = ws.cell(top + i, 2).hyperlink
        m = re.fullmatch(r"'(报修台账|回访记录)'!A(\d+)", link.location)
        assert m and m.group(1) == row[col("来源")]
        sources.setdefault(m.group(1), []).append(int(m.group(2)))
    assert sorted(sources["报修台账"]) == reps and sorted(sources["回访记录"]) == viss
    # the ticket's own facts
    led = wb["报修台账"]
    head = [c.value for c in led[1]]
    r0 = sources["报修台账"][0]
    i0 = next(i for i, row in enumerate(rows) if ws.cell(top + i, 2).hyperlink.location.endswith(f"A{r0}"))
    assert rows[i0][col("编号")] == led.cell(r0, head.index("报修单号") + 1).value
    assert rows[i0][col("维修内容")] == led.cell(r0, head.index("维修内容") + 1).value
    assert rows[i0][col("原因分类")] == led.cell(r0, head.index("原因分类") + 1).value
    # photos: the first path or address is a clickable external link; the cell shows them all
    links = [(ws.cell(top + i, col("照片") + 1).hyperlink, row[col("照片")]) for i, row in enumerate(rows)
             if row[col("照片")]]
    assert links and all(h is not None and h.target and shown.split("\n")[0] == h.target for h, shown in links)
    assert any("\n" in shown for _, shown in links) and any(h.target.startswith("https://") for h, _ in links)
    # the summary: part × cause × 专业 with the cases and all tickets
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    s = next(i for i, r in enumerate(cells) if isinstance(r[0], str) and r[0].startswith("二、按部位、原因和专业统计"))
    assert cells[s + 1][0] == "保修部位" and cells[s + 1][6] == "典型案例（个）" and cells[s + 1][7] == "全部报修（件）"
    body = [r for r in cells[s + 2:] if r[0]]
    assert sum(r[6] for r in body) == len(rows)
    assert sum(r[7] for r in body) == len(read_rows(p))


def read_rows(p: Path):
    with FileBook.open(p, lock=False) as b:
        return read_table(b, R).df


def _write_note(path: Path, case_ref: str, text) -> None:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb["案例库"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, col("编号") + 1).value == case_ref)
    c = ws.cell(r, col("经验总结") + 1)
    c.value = text
    if isinstance(text, str) and text.startswith("="):
        c.data_type = "s"  # text staff typed (or pasted as text), not a formula
    wb.save(path)


def test_a_rerun_keeps_every_note_and_an_unmarked_case_keeps_its_note_below(demo, tmp_path):
    p = copy(demo, tmp_path / "b.xlsm")
    ws = openpyxl.load_workbook(p)["案例库"]
    refs = [r[col("编号")] for r in case_rows(ws)]
    keep, drop = refs[0], refs[1]
    _write_note(p, keep, "渗漏多发于女儿墙根部：泛水高度不足，今后图纸会审时复核")
    _write_note(p, drop, "已并入同类案例")
    # staff un-mark the second case on 报修台账
    with FileBook.open(p) as b:
        f = read_table(b, R)
        row = int(f.df.index[(f.df["ticket_id"] == drop).to_numpy()][0])
        b.write(R.sheet, row, f.cols["typical"], [["否"]])
        b.save()
    with FileBook.open(p) as b:
        res = cases.run(b, JobOptions(today=TODAY))
        b.save()
    assert res.summary["notes_kept"] == 1 and res.summary["unmarked_with_notes"] == 1
    ws = openpyxl.load_workbook(p)["案例库"]
    rows = case_rows(ws)
    assert [r[col("经验总结")] for r in rows if r[col("编号")] == keep] == ["渗漏多发于女儿墙根部：泛水高度不足，今后图纸会审时复核"]
    assert drop not in [r[col("编号")] for r in rows]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    b2 = next(i for i, r in enumerate(cells) if isinstance(r[0], str) and r[0].startswith("二、已取消“典型”标记"))
    assert cells[b2 + 2][col("编号")] == drop and cells[b2 + 2][col("经验总结")] == "已并入同类案例"
    # a third run: nothing lost, nothing doubled
    with FileBook.open(p) as b:
        res = cases.run(b, JobOptions(today=TODAY))
        b.save()
    assert res.summary["notes_kept"] == 1 and res.summary["unmarked_with_notes"] == 1
    # the note cleared: the un-marked case is gone
    ws = openpyxl.load_workbook(p, keep_vba=True)["案例库"]
    r = next(i for i in range(1, ws.max_row + 1) if ws.cell(i, col("经验总结") + 1).value == "已并入同类案例")
    ws.parent["案例库"].cell(r, col("经验总结") + 1).value = None
    ws.parent.save(p)
    with FileBook.open(p) as b:
        assert cases.run(b, JobOptions(today=TODAY)).summary["unmarked_with_notes"] == 0


def test_hostile_text_stays_text_in_the_file(demo, tmp_path):
    p = copy(demo, tmp_path / "c.xlsm")
    ws = openpyxl.load_workbook(p)["案例库"]
    ref = case_rows(ws)[0][col("编号")]
    _write_note(p, ref, HOSTILE)
    with FileBook.open(p) as b:
        f = read_table(b, R)
        row = int(f.df.index[(f.df["ticket_id"] == ref).to_numpy()][0])
        b.write(R.sheet, row, f.cols["photos"], [[HOSTILE]])
        b.write(R.sheet, row, f.cols["work"], [["=1+1"]])
        b.save()
    assert cli.main(["cases", str(p), "--today", "2026-11-21"]) == 0
    ws = openpyxl.load_workbook(p)["案例库"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号") + 1
    r = next(r for r in range(top, ws.max_row + 1) if ws.cell(r, col("编号") + 1).value == ref)
    for name, want in (("经验总结", HOSTILE), ("照片", HOSTILE), ("维修内容", "=1+1")):
        c = ws.cell(r, col(name) + 1)
        assert c.value == want and c.data_type == "s", name
    assert ws.cell(r, col("照片") + 1).hyperlink is None


def test_the_same_sheet_through_excel_and_hostile_text_is_never_a_formula(demo, tmp_path):
    from test_xlbook import file_cells

    p = copy(demo, tmp_path / "d.xlsm")
    _write_note(p, case_rows(openpyxl.load_workbook(p)["案例库"])[0][col("编号")], HOSTILE)
    app = comfake.Application()
    wb = app.open(p)
    book = XlBook(comfake.xlwings_book(wb))
    with book.busy():
        rx = cases.run(book, JobOptions(today=TODAY))
    with FileBook.open(p) as fb:
        rf = cases.run(fb, JobOptions(today=TODAY))
        fb.save()
    assert rx.summary == rf.summary and rx.summary["notes_kept"] == 1 and rx.summary["photo_links"] > 0
    data = wb.data.sheet("案例库")
    want = file_cells(p, "案例库")
    link = re.compile(r'^=HYPERLINK\("(#?)((?:[^"]|"")*)","((?:[^"]|"")*)"\)$')
    external = 0
    for key, shown in want.items():
        f = data.formulas.get(key)
        if f is None:
            v = comfake.Range(wb._app, wb.data, data, [key * 2])._value_of(key, False)
            v = v.replace(tzinfo=None).date() if isinstance(v, dt.datetime) else v
            v = int(v) if isinstance(v, float) and v.is_integer() else v
            assert v == shown, key
            continue
        m = link.match(f.replace('"&CHAR(10)&"', "\n"))
        assert m and m.group(3).replace('""', '"') == shown, (key, f)
        if not m.group(1):  # a photo: the link is the first path shown
            external += 1
            assert m.group(2).replace('""', '"') == str(shown).split("\n")[0]
    assert external == rx.summary["photo_links"]
    # the hostile note is a value (text), not a formula
    hostile = [k for k, v in want.items() if v == HOSTILE]
    assert hostile and all(k not in data.formulas for k in hostile)


def test_a_column_staff_added_is_kept_and_a_sheet_without_its_header_is_not_regenerated(demo, tmp_path):
    p = copy(demo, tmp_path / "e.xlsm")
    wb = openpyxl.load_workbook(p, keep_vba=True)
    ws = wb["案例库"]
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    extra = len(cases.HEADERS) + 1
    ws.cell(head, extra).value = "整改责任人"
    ws.cell(head + 2, extra).value = "王工"
    ref = ws.cell(head + 2, col("编号") + 1).value
    wb.save(p)
    with FileBook.open(p) as b:
        res = cases.run(b, JobOptions(today=TODAY))
        b.save()
    assert res.summary["notes_kept"] == 1
    ws = openpyxl.load_workbook(p)["案例库"]
    assert ws.cell(head, extra).value == "整改责任人"
    r = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, col("编号") + 1).value == ref)
    assert ws.cell(r, extra).value == "王工"
    # staff renamed the header: the sheet is left as it is, and the problem says why
    wb = openpyxl.load_workbook(p, keep_vba=True)
    wb["案例库"].cell(head, col("经验总结") + 1).value = "心得"
    wb["案例库"].cell(head + 1, col("经验总结") + 1).value = "不能丢"
    wb.save(p)
    before = [[c.value for c in row] for row in openpyxl.load_workbook(p)["案例库"].iter_rows()]
    assert cli.main(["cases", str(p), "--today", "2026-11-21"]) == 0
    with FileBook.open(p) as b:
        res = cases.run(b, JobOptions(today=TODAY))
    assert res.summary.get("refused") and "表头" in res.problems[0].message
    assert [[c.value for c in row] for row in openpyxl.load_workbook(p)["案例库"].iter_rows()] == before
