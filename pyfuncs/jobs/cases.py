"""回访案例库 (``cases``): the rows staff marked 典型 on 报修台账 and 回访记录, gathered on sheet 案例库.

Seed 000 §四.4: typical problems, their solutions and the technical feedback are archived and
analysed for future projects. Staff mark a ticket or a visit finding 典型 = 是; this job writes:

一、典型案例: one row per marked row — 来源 (a link back to the source row), 编号 (报修单号 /
    回访编号), 日期, project, 保修部位, 专业, 原因分类, 问题描述, 维修内容, 维修费用, 照片 (the first
    path or web address is a clickable link; the cell shows them all) and 经验总结, staff's own
    column. A visit finding takes 原因分类, 维修内容, 维修费用 and 照片 from the repair ticket it
    opened (回访记录 报修单号), as that is where the repair is recorded.
二、已取消“典型”标记的案例: a case that is no longer marked (or whose source row is gone) but
    has a 经验总结 keeps it here, so what staff wrote is never lost; clearing its 经验总结 drops it.
三、按部位、原因和专业统计: part × cause × 专业 with the number of typical cases, of all repair
    tickets and their cost: what keeps failing.

A rerun reads the existing 案例库 first and keeps every 经验总结 (and every column staff added to
the right of it, with a header), matched by the case's key: 来源 + 编号, or 来源 + 项目编号 + 日期 +
问题描述 for a row that has no number yet. A sheet whose case header staff changed is not
regenerated (the problem says so). What staff typed stays text (a 经验总结 or 照片 starting with
``=`` is written as text, never a formula; a formula staff put in 经验总结 is kept as the value it
showed).

Example::

    >>> import pandas as pd
    >>> rep = pd.DataFrame({"ticket_id": ["BX2026-0001", "BX2026-0002"], "project_id": ["P1", "P1"],
    ...                     "notice": pd.to_datetime(["2026-03-01", "2026-04-01"]), "part": ["屋面防水", "屋面防水"],
    ...                     "cause": ["施工质量", "施工质量"], "problem": ["屋面渗漏", "落水口堵塞"],
    ...                     "typical": ["是", None], "cost": [1200.0, None]}, index=[2, 3])
    >>> c = collect_cases(rep, pd.DataFrame(), pd.DataFrame({"project_id": ["P1"], "name": ["一号楼"]}))
    >>> c[["source", "ref", "name", "discipline", "key"]].values.tolist()
    [['报修台账', 'BX2026-0001', '一号楼', '土建', '报修台账|BX2026-0001']]
    >>> summary_table(c, rep)[["part", "cause", "cases", "tickets"]].values.tolist()
    [['屋面防水', '施工质量', 1, 2]]
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pyfuncs.io.book import Book, is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.jobs._common import as_date
from pyfuncs.layout import Layout, fit_row_heights, link_target
from pyfuncs.schema import REPORT_SHEET, TABLES, YES_NO

SHEET = "案例库"
YES = YES_NO[0]
SOURCES = (TABLES["repairs"].sheet, TABLES["visits"].sheet)
NOTES = "经验总结"
#: the case table's columns: (header, width, style)
COLUMNS = (
    ("序号", 5, "int"), ("来源", 9, "link"), ("编号", 13, "center"), ("日期", 11, "date"),
    ("项目编号", 11, "center"), ("项目名称", 18, "cell"), ("保修部位", 12, "cell"), ("专业", 6, "center"),
    ("原因分类", 11, "cell"), ("问题描述", 26, "cell"), ("维修内容", 26, "cell"), ("维修费用（元）", 12, "money"),
    ("照片", 26, "cell"), (NOTES, 34, "box"),
)
HEADERS = tuple(h for h, _, _ in COLUMNS)
SUMMARY_HEADERS = ("保修部位", "原因分类", "专业", "典型案例（个）", "全部报修（件）", "报修费用合计（元）")
NO_PART, NO_CAUSE, NO_DISCIPLINE = "未填部位", "未填原因", "未填专业"
_SPLIT = re.compile(r"[\r\n;；]+")


def _txt(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v).strip()


def case_key(source: str, ref: Any, project_id: Any = None, date: Any = None, problem: Any = None) -> str:
    """The key a case is known by from one run to the next: 来源|编号, or, for a row without a
    number yet, 来源|项目编号|日期|问题描述.

    >>> case_key("报修台账", "BX2026-0001"), case_key("回访记录", None, "P1", dt.date(2026, 5, 1), "外墙渗水 ")
    ('报修台账|BX2026-0001', '回访记录||P1|2026-05-01|外墙渗水')
    """
    ref = _txt(ref)
    if ref:
        return f"{source}|{ref}"
    d = as_date(date)
    return f"{source}||{_txt(project_id)}|{d.isoformat() if d else _txt(date)}|{_txt(problem)}"


def photo_list(*cells: Any) -> list[str]:
    """Paths / web addresses of one or more 照片 cells (split at line breaks and semicolons).

    >>> photo_list("a.jpg；https://x.example/b", None, "a.jpg")
    ['a.jpg', 'https://x.example/b']
    """
    out: list[str] = []
    for c in cells:
        for p in _SPLIT.split(_txt(c)):
            p = p.strip()
            if p and p not in out:
                out.append(p)
    return out


def _col(df: pd.DataFrame, key: str) -> pd.Series:
    return df[key] if key in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def collect_cases(repairs: pd.DataFrame, visits: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """The marked rows of the typed 报修台账 and 回访记录 (indexed by Excel row) as one table:
    source, row, ref, date, project_id, name, part, discipline, cause, problem, work, cost, photos
    (list), key. Pure."""
    from pyfuncs.core.parts import discipline_of

    names = {_txt(p): _txt(n) for p, n in zip(_col(projects, "project_id"), _col(projects, "name"))}
    by_ticket = {}
    for r in repairs.index:
        t = _txt(_col(repairs, "ticket_id")[r])
        if t and t not in by_ticket:
            by_ticket[t] = r
    rows: list[dict[str, Any]] = []

    def discipline(d, part):
        d = _txt(d)
        if d:
            return d
        p = _txt(part)
        return _txt(discipline_of(np.array([p], dtype=object))[0]) if p else ""

    rep_marked = _col(repairs, "typical").map(_txt) == YES
    for r in repairs.index[rep_marked.to_numpy()]:
        g = repairs.loc[r]
        place, problem = _txt(g.get("place")), _txt(g.get("problem"))
        rows.append({
            "source": SOURCES[0], "row": int(r), "ref": _txt(g.get("ticket_id")), "date": as_date(g.get("notice")),
            "project_id": _txt(g.get("project_id")), "part": _txt(g.get("part")),
            "discipline": discipline(g.get("discipline"), g.get("part")), "cause": _txt(g.get("cause")),
            "problem": f"{place}：{problem}" if place and problem else (problem or place),
            "work": _txt(g.get("work")), "cost": g.get("cost"), "photos": photo_list(g.get("photos")),
        })
    vis_marked = _col(visits, "typical").map(_txt) == YES
    for r in visits.index[vis_marked.to_numpy()]:
        v = visits.loc[r]
        t = _txt(v.get("ticket_id"))
        tr = repairs.loc[by_ticket[t]] if t in by_ticket else None
        work = [x for x in (f"处理意见：{_txt(v.get('handling'))}" if _txt(v.get("handling")) else "",
                            f"维修（{t}）：{_txt(tr.get('work'))}" if tr is not None and _txt(tr.get("work")) else "")
                if x]
        part = _txt(v.get("part")) or (_txt(tr.get("part")) if tr is not None else "")
        rows.append({
            "source": SOURCES[1], "row": int(r), "ref": _txt(v.get("visit_id")), "date": as_date(v.get("date")),
            "project_id": _txt(v.get("project_id")), "part": part,
            "discipline": discipline(v.get("discipline"), part),
            "cause": _txt(tr.get("cause")) if tr is not None else "",
            "problem": _txt(v.get("problems")), "work": "\n".join(work),
            "cost": tr.get("cost") if tr is not None else None,
            "photos": photo_list(v.get("photos"), tr.get("photos") if tr is not None else None),
        })
    cols = ["source", "row", "ref", "date", "project_id", "name", "part", "discipline", "cause", "problem", "work",
            "cost", "photos", "key"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["name"] = out["project_id"].map(lambda p: names.get(p, ""))
    out["cost"] = pd.to_numeric(out["cost"], errors="coerce")
    out["key"] = [case_key(s, ref, p, d, q) for s, ref, p, d, q in
                  zip(out["source"], out["ref"], out["project_id"], out["date"], out["problem"])]
    out["_d"] = out["date"].map(lambda d: d or dt.date.max)
    out = out.sort_values(["_d", "source", "row"], kind="stable").drop(columns="_d").reset_index(drop=True)
    return out[cols]


def summary_table(cases: pd.DataFrame, repairs: pd.DataFrame) -> pd.DataFrame:
    """Part × cause × 专业: typical cases, all repair tickets and their cost, most tickets first.
    Pure."""
    from pyfuncs.core.parts import discipline_of

    def keyed(part, cause, disc):
        part = pd.Series(part, dtype=object).map(_txt)
        disc = pd.Series(disc, dtype=object).map(_txt)
        fill = pd.Series(discipline_of(part.to_numpy(dtype=object)) if len(part) else [], index=part.index,
                         dtype=object).map(_txt)
        disc = disc.where(disc != "", fill)
        return pd.DataFrame({"part": part.replace("", NO_PART).to_numpy(),
                             "cause": pd.Series(cause, dtype=object).map(_txt).replace("", NO_CAUSE).to_numpy(),
                             "discipline": disc.replace("", NO_DISCIPLINE).to_numpy()})

    keys = ["part", "cause", "discipline"]
    c = keyed(cases["part"].to_numpy(dtype=object), cases["cause"].to_numpy(dtype=object),
              cases["discipline"].to_numpy(dtype=object)).assign(cases=1)
    r = keyed(_col(repairs, "part").to_numpy(dtype=object), _col(repairs, "cause").to_numpy(dtype=object),
              _col(repairs, "discipline").to_numpy(dtype=object))
    r["tickets"] = 1
    r["cost"] = pd.to_numeric(_col(repairs, "cost"), errors="coerce").fillna(0.0).to_numpy()
    a = c.groupby(keys, as_index=False)["cases"].sum() if len(c) else pd.DataFrame(columns=keys + ["cases"])
    b = r.groupby(keys, as_index=False)[["tickets", "cost"]].sum() if len(r) else pd.DataFrame(columns=keys + ["tickets", "cost"])
    out = a.merge(b, on=keys, how="outer")
    out["cases"] = out["cases"].fillna(0).astype(int)
    out["tickets"] = out["tickets"].fillna(0).astype(int)
    out["cost"] = out["cost"].fillna(0.0).astype(float)
    return out.sort_values(["tickets", "cases", "part", "cause", "discipline"],
                           ascending=[False, False, True, True, True], kind="stable").reset_index(drop=True)


# ---- the existing sheet: what staff wrote --------------------------------------------------------
class Existing(NamedTuple):
    """What staff wrote on the existing 案例库 sheet."""

    rows: dict[str, dict[str, Any]]  # case key → {header: value} of rows with something in an own column
    extra: list[str]                 # headers of columns staff added to the case table (kept like 经验总结)
    readable: bool                   # False: the sheet has content but no case table header (not regenerated)


def _filled(v: Any) -> bool:
    return not is_blank(v) and not (isinstance(v, str) and not v.strip())


def read_existing(book: Book) -> Existing:
    """Every case row on the existing 案例库 sheet (both blocks: the cases and the un-marked ones)
    with something in 经验总结 or in a column staff added to the case table, by case key."""
    if not book.has_sheet(SHEET):
        return Existing({}, [], True)
    nrow, ncol = book.extent(SHEET)
    if not nrow or not ncol:
        return Existing({}, [], True)
    grid = book.read(SHEET, (1, 1, nrow, ncol))
    out: dict[str, dict[str, Any]] = {}
    extra: list[str] = []
    cols: dict[str, int] | None = None
    for row in grid:
        texts = [_txt(v) for v in row]
        if NOTES in texts and "来源" in texts:
            cols = {h: j for j, h in enumerate(texts) if h and (h in HEADERS or j > texts.index(NOTES))}
            extra += [h for h in cols if h not in HEADERS and h not in extra]
            continue
        if cols is None or texts[cols["来源"]] not in SOURCES:
            continue
        cell = {h: row[j] for h, j in cols.items()}
        if not any(_filled(cell.get(h)) for h in (NOTES, *extra)):
            continue
        key = case_key(texts[cols["来源"]], cell.get("编号"), cell.get("项目编号"), cell.get("日期"),
                       cell.get("问题描述"))
        out.setdefault(key, cell)
    readable = cols is not None or not any(_filled(v) for row in grid for v in row)
    return Existing(out, extra, readable)


def read_notes(book: Book) -> dict[str, dict[str, Any]]:
    """key → {header: value} of the case rows whose 经验总结 (or an added column) is filled."""
    return read_existing(book).rows


# ---- the sheet -------------------------------------------------------------------------------------
def case_layout(cases: pd.DataFrame, retired: list[dict[str, Any]], summary: pd.DataFrame,
                notes: dict[str, dict[str, Any]], today: dt.date, sheets=(), extra: list[str] = ()) -> Layout:
    """The 案例库 sheet. ``notes``: key → the old row (its 经验总结 and ``extra`` columns, those
    staff added after it, are kept); ``retired``: the old rows of cases no longer marked;
    ``sheets``: the workbook's sheets (links only to those)."""
    own = (NOTES, *extra)
    headers = (*HEADERS, *extra)
    ncol = len(COLUMNS)
    # no repeated title rows: the summary block below the cases has headers of its own
    lay = Layout(SHEET, orientation="landscape", fit_width=True, freeze="D6")
    for j, (_, w, _) in enumerate(COLUMNS, start=1):
        lay.widths[j] = w
    for j in range(len(COLUMNS) + 1, len(headers) + 1):
        lay.widths[j] = 16
    lay.put(1, 1, "回访案例库", "title")
    lay.merge(1, 1, 1, ncol)
    lay.heights[1] = 28
    n_rep = int((cases["source"] == SOURCES[0]).sum()) if len(cases) else 0
    lay.put(2, 1, f"生成日期：{today.isoformat()}；典型案例 {len(cases)} 个（报修 {n_rep} 个，回访发现 {len(cases) - n_rep} 个）。"
                  "在报修台账或回访记录的“典型”列选“是”即收入本表；“经验总结”列由工作人员填写，"
                  "重新生成时按来源和编号保留，其他列每次按台账重新生成。", "text")
    lay.merge(2, 1, 2, ncol)
    lay.heights[2] = 30
    r = 4

    def section(title: str) -> None:
        nonlocal r
        lay.put(r, 1, title, "section")
        lay.merge(r, 1, r, ncol)
        r += 1

    def header(hs) -> None:
        nonlocal r
        for j, h in enumerate(hs, start=1):
            lay.put(r, j, h, "header")
        r += 1

    section("一、典型案例")
    header(headers)
    if not len(cases):
        lay.put(r, 1, "还没有标记为典型的报修或回访问题：在报修台账或回访记录的“典型”列选“是”，再运行“案例库”。", "note")
        lay.merge(r, 1, r, ncol)
        r += 1
    for i, c in enumerate(cases.itertuples(index=False), start=1):
        photos = list(c.photos)
        shown = "\n".join(photos)
        old = notes.get(c.key, {})
        values = (i, c.source, c.ref or None, c.date, c.project_id or None, c.name or None, c.part or None,
                  c.discipline or None, c.cause or None, c.problem or None, c.work or None,
                  None if pd.isna(c.cost) else float(c.cost), shown or None,
                  *(old.get(h) if _filled(old.get(h)) else None for h in own))
        for j, (style, v) in enumerate(zip([st for _, _, st in COLUMNS] + ["box"] * len(extra), values), start=1):
            lay.put(r, j, v, style)
        if c.source in sheets:
            lay.link(r, 2, c.source, f"A{c.row}")
        else:
            lay.put(r, 2, c.source, "cell")
        if photos and len(shown) <= 255 and lay.url(r, 13, photos[0]):
            lay.put(r, 13, shown, "link")
        r += 1
    r += 1
    if retired:
        section("二、已取消“典型”标记的案例（保留经验总结；清空其经验总结后下次不再列出）")
        header(headers)
        styles = {h: st for h, _, st in COLUMNS}
        for i, old in enumerate(retired, start=1):
            for j, h in enumerate(headers, start=1):
                v = i if h == "序号" else old.get(h)
                lay.put(r, j, v if _filled(v) else None, "cell" if h == "来源" else styles.get(h, "box"))
            r += 1
        r += 1
    section(("三" if retired else "二") + "、按部位、原因和专业统计（典型案例和全部报修，报修件数多的在前）")
    # the summary's six columns over the case table's narrower ones: (first, last) column of each
    spans = ((1, 3), (4, 5), (6, 6), (7, 7), (8, 9), (10, 10))
    styles = ("cell", "cell", "center", "int", "int", "money")

    def put_row(values, row_styles) -> None:
        nonlocal r
        for (a, b), v, st in zip(spans, values, row_styles):
            lay.put(r, a, v, st)
            lay.merge(r, a, r, b)
        lay.heights[r] = 18
        r += 1

    put_row(SUMMARY_HEADERS, ["header"] * len(spans))
    for s in summary.itertuples(index=False):
        put_row((s.part, s.cause, s.discipline, s.cases, s.tickets, s.cost), styles)
    if not len(summary):
        lay.put(r, 1, "没有报修记录。", "note")
        r += 1
    fit_row_heights(lay)
    return lay


def run(book: Book, opts: JobOptions) -> JobResult:
    from pyfuncs.tables import read_table

    result = JobResult("cases")
    book.progress(1, 3, "读取台账")
    frames = {k: read_table(book, TABLES[k]) for k in ("projects", "repairs", "visits")}
    marked_rows: dict[str, set[int]] = {}
    for k in ("repairs", "visits"):
        f = frames[k]
        marked_rows[f.sheet] = set(int(r) for r in f.df.index[(f.df["typical"].map(_txt) == YES).to_numpy()])
    own = {TABLES[k].column(c).header for k in ("repairs", "visits") for c in ("typical", "photos", "work")
           if c in {x.key for x in TABLES[k].columns}}
    for f in frames.values():
        for p in f.problems:  # only what concerns the cases: their rows, our columns, a missing sheet
            if p.row in marked_rows.get(p.sheet, ()) or p.column in own or p.row is None and f.sheet in SOURCES:
                result.problems.append(p)
    existing = read_existing(book)
    if not existing.readable:
        result.problems.append(Problem(SHEET, None, None,
                                       "「案例库」工作表中找不到案例表的表头（来源、经验总结），为免丢失其中员工填写的内容，"
                                       "本次没有重新生成；请把表头改回，或把该工作表改名后再运行"))
        result.messages.append("案例库未更新：「案例库」工作表的表头被改动，见问题清单。")
        result.summary = {"cases": 0, "refused": True}
        return result
    notes_before = existing.rows
    book.progress(2, 3, "整理典型案例")
    cases = collect_cases(frames["repairs"].df, frames["visits"].df, frames["projects"].df)
    keys = set(cases["key"]) if len(cases) else set()
    retired = [old for k, old in notes_before.items() if k not in keys]
    summary = summary_table(cases, frames["repairs"].df)
    sheets = book.sheet_names()
    lay = case_layout(cases, retired, summary, notes_before, opts.today, sheets, existing.extra)
    book.progress(3, 3, "写入案例库")
    after = REPORT_SHEET if REPORT_SHEET in sheets else (SOURCES[1] if SOURCES[1] in sheets else None)
    book.put_sheet(lay, after=after)
    book.set_status(None)
    kept = sum(1 for k in keys if k in notes_before)
    result.summary = {
        "cases": int(len(cases)),
        "from_repairs": int((cases["source"] == SOURCES[0]).sum()) if len(cases) else 0,
        "from_visits": int((cases["source"] == SOURCES[1]).sum()) if len(cases) else 0,
        "notes_kept": int(kept),
        "unmarked_with_notes": len(retired),
        "combinations": int(len(summary)),
        "photo_links": len(lay.urls),
    }
    s = result.summary
    result.messages.append(f"案例库已更新：典型案例 {s['cases']} 个（报修 {s['from_repairs']} 个，回访发现 {s['from_visits']} 个），"
                           f"保留经验总结 {s['notes_kept']} 条" +
                           (f"；已取消标记但有经验总结的 {s['unmarked_with_notes']} 个列在表下方" if retired else "") + "。")
    return result
