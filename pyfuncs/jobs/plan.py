"""生成年度回访计划 (``plan``): the year's callback plan, printed by month.

sheet → typed table → pure function → table → sheet:

1. :func:`missing_terms` — projects with no 保修条款 rows get one row per part (terms blank =
   statutory defaults); ``run`` appends them.
2. the core (``warranty_ends`` + ``callbacks.plan_visits``) gives one row per project and month,
   each on the last working day on or before every reason's day (DOMAIN.md §3);
3. :func:`build_plan` joins them with 项目台账 (name, client, contact, phone, 回访负责人) and writes
   why each visit is due, and what a missing or bad cell changed, in 回访事由及说明;
4. :func:`merge_plan` carries over what staff wrote on the previous plan (状态, 实际回访日期,
   负责人, 回访方式, 备注), matched by 项目编号 + month, and keeps vanished rows that hold staff
   data, marked as changed;
5. :func:`plan_layout` lays the rows out for print (A4 landscape, fit to width, header row repeated,
   rows grouped by month with a subtotal row per month, page numbers) and ``run`` writes the sheet
   ``回访计划YYYY`` (regenerated as a whole: it is a generated sheet).

A bad cell changes only what depends on it (:func:`pyfuncs.jobs._common.usable_projects`): a project is left out
only without a 项目编号 or a readable 竣工验收日期; a bad 项目规模 plans routine visits as 中型, a
city the season table lacks uses its 默认 row, an unreadable 合理使用年限 or 约定保修期 the
default (as refresh does), each with a note on the rows it affects and the cell in the problem list.
A plan year whose holidays the holidays package only estimates says so under the title.

Decisions: 回访方式 defaults to 实地 for every kind (the seed practice: "回访必须进行实地走访...
而非仅仅依赖电话沟通", and the 保修期满前回访 hands over the 保修期满通知书); 负责人 defaults to
the project's 回访负责人, else its 项目经理.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from pyfuncs.core.parts import PART_LABELS
from pyfuncs.io.book import Formula, col_letter
from pyfuncs.jobs._common import as_date, cell_text, is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.layout import Layout, fit_row_heights
from pyfuncs.schema import HOLIDAYS, plan_table

#: columns of a plan frame (schema keys of the plan table), in sheet order
PLAN_KEYS = [c.key for c in plan_table(2000).columns]
STAFF_KEYS = ("way", "owner", "state", "actual", "note")
DEFAULT_WAY = "实地"
DEFAULT_STATE = "未回访"
CHANGE_MARK = "【计划变更：新计划已无此次回访】"
HOLIDAYS_SHEET = HOLIDAYS.sheet
HEADER_ROW = 3
FIRST_ROW = 4


# --- 1. terms rows for projects without any -------------------------------------------------
def missing_terms(projects: pd.DataFrame, terms: pd.DataFrame) -> pd.DataFrame:
    """Rows (project_id, part) to append to 保修条款: all ten parts for every project that has
    no row at all. Projects are taken in ledger order; blank ids are ignored."""
    have = {cell_text(p) for p in terms.get("project_id", pd.Series(dtype=object))}
    rows = []
    seen = set()
    for pid in projects.get("project_id", pd.Series(dtype=object)):
        pid = cell_text(pid)
        if not pid or pid in have or pid in seen:
            continue
        seen.add(pid)
        rows.extend({"project_id": pid, "part": part} for part in PART_LABELS)
    return pd.DataFrame(rows, columns=["project_id", "part"])


# --- 3. join the core's visits with the ledger ------------------------------------------------
def default_owner(project: pd.Series | dict) -> str:
    return cell_text(project.get("visit_owner")) or cell_text(project.get("manager"))


def plan_reasons(reasons: Any, notes: Any = None) -> str:
    """The 回访事由及说明 cell: why the visit is due, then what a missing or bad cell changed.

    >>> plan_reasons("例行回访（交付满12个月）", "项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排")
    '例行回访（交付满12个月）。注：项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排'
    """
    from pyfuncs.core.callbacks import visit_text  # one wording, shared with AC_CALLBACKS

    return visit_text(reasons, notes)


def build_plan(visits: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """The fresh plan: one row per (date, project) of ``visits`` (columns date, project_id, kinds,
    parts, and optionally reasons, notes) with the ledger's name, client, contact, phone and the
    defaults for staff columns."""
    by_id: dict[str, dict] = {}
    for p in projects.to_dict("records"):  # plain dicts: iterrows is slow over 10,000 rows
        pid = cell_text(p.get("project_id"))
        if pid and pid not in by_id:
            by_id[pid] = p
    rows = []
    for v in visits.to_dict("records"):
        pid = cell_text(v["project_id"])
        p = by_id.get(pid, {})
        rows.append({
            "seq": None,
            "date": as_date(v["date"]),
            "project_id": pid,
            "name": cell_text(p.get("name")),
            "client": cell_text(p.get("client")),
            "contact": cell_text(p.get("contact")),
            "phone": cell_text(p.get("phone")),
            "kind": cell_text(v.get("kinds")),
            "parts": cell_text(v.get("parts")),
            "reasons": plan_reasons(v.get("reasons"), v.get("notes")),
            "way": DEFAULT_WAY,
            "owner": default_owner(p) if p else "",
            "state": DEFAULT_STATE,
            "actual": None,
            "note": "",
        })
    out = pd.DataFrame(rows, columns=PLAN_KEYS)
    return _sort(out)


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    key = df["date"].map(lambda d: d or dt.date.max)
    return (df.assign(_k=key).sort_values(["_k", "project_id"], kind="stable")
            .drop(columns="_k").reset_index(drop=True))


# --- 4. carry staff data over ---------------------------------------------------------------
def _month(d: Any) -> tuple[int, int] | None:
    d = as_date(d)
    return (d.year, d.month) if d else None


def _strip_mark(note: str) -> str:
    while note.startswith(CHANGE_MARK):
        note = note[len(CHANGE_MARK):].lstrip()
    return note


def holds_staff_data(row: pd.Series | dict, owner_default: str = "") -> bool:
    """Did staff write anything on this plan row (beyond what the plan job fills in)?"""
    if any(not is_blank(v) for k, v in dict(row).items() if str(k).startswith(EXTRA)):
        return True
    state = cell_text(row.get("state"))
    if state and state != DEFAULT_STATE:
        return True
    if as_date(row.get("actual")) is not None or not is_blank(row.get("actual")):
        return True
    if _strip_mark(cell_text(row.get("note"))):
        return True
    way = cell_text(row.get("way"))
    if way and way != DEFAULT_WAY:
        return True
    owner = cell_text(row.get("owner"))
    return bool(owner) and owner != owner_default


def merge_plan(fresh: pd.DataFrame, old: pd.DataFrame | None,
               owners: dict[str, str] | None = None) -> pd.DataFrame:
    """The plan to write: ``fresh`` with the staff columns of ``old`` carried over.

    Rows match on (项目编号, month of 计划日期). A staff value (non-blank) wins over the default.
    Rows staff added by hand (项目编号 and 计划日期 but no 回访类型) are kept as they are.
    Old rows with no match that hold staff data are kept, their 备注 prefixed with
    :data:`CHANGE_MARK`, and flagged in the ``changed`` column; old rows without staff data are
    dropped. A kept row that matches again later loses the mark. The result is sorted by date
    then project and numbered (序号). Pure and idempotent: merge(merge(f, o), f) == merge(f, o).
    """
    owners = owners or {}
    out = fresh.copy()
    out["changed"] = False
    if old is None or old.empty:
        return _number(out)
    old = old[old["project_id"].map(cell_text) != ""]
    extras = [c for c in old.columns if str(c).startswith(EXTRA)]
    columns = list(out.columns) + extras
    rows = out.to_dict("records")  # plain dicts: per-cell .at writes were seconds on 10,000 rows
    old_rows = old.to_dict("records")
    index: dict[tuple[str, tuple[int, int] | None], list[int]] = {}
    for i, r in enumerate(old_rows):
        index.setdefault((cell_text(r["project_id"]), _month(r["date"])), []).append(i)
    used: set[int] = set()
    for row in rows:
        for k in extras:
            row[k] = None
        cand = [i for i in index.get((row["project_id"], _month(row["date"])), []) if i not in used]
        if not cand:
            continue
        i = cand[0]
        used.add(i)
        o = old_rows[i]
        for k in extras:
            row[k] = None if is_blank(o.get(k)) else o.get(k)
        for k in STAFF_KEYS:
            v = o.get(k)
            if k == "note":
                v = _strip_mark(cell_text(v))
            if k == "actual":
                if not is_blank(v):
                    row[k] = as_date(v) or v
                continue
            if not is_blank(v):
                row[k] = cell_text(v)
    for i, o in enumerate(old_rows):
        if i in used:
            continue
        pid = cell_text(o["project_id"])
        staff_row = not cell_text(o.get("kind"))  # a visit staff added by hand (no 回访类型 from the plan)
        if not staff_row and not holds_staff_data(o, owners.get(pid, "")):
            continue
        row = {k: (None if is_blank(o.get(k)) else o.get(k)) for k in PLAN_KEYS + extras}
        for k in ("project_id", "name", "client", "contact", "phone", "kind", "parts", "reasons", "way", "owner",
                  "state", "note"):
            row[k] = cell_text(o.get(k))
        row["date"] = as_date(o.get("date"))
        row["actual"] = as_date(o.get("actual")) or (None if is_blank(o.get("actual")) else o.get("actual"))
        row["note"] = _strip_mark(row["note"]) if staff_row else CHANGE_MARK + _strip_mark(row["note"])
        row["changed"] = not staff_row
        rows.append(row)
    return _number(_sort(pd.DataFrame(rows, columns=columns)))


def _number(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    df["seq"] = range(1, len(df) + 1)
    return df


# --- 5. the printed sheet --------------------------------------------------------------------
PLAN_TEMPLATE = ("templates", "plan.toml")  # pyfuncs/resources/templates/plan.toml (package data)


def plan_texts(path: str | Path | None = None) -> dict[str, str]:
    """The plan's printed texts and print settings (``pyfuncs/resources/templates/plan.toml``)."""
    import tomllib

    if path is None:
        from pyfuncs.resources import load_toml

        return load_toml(*PLAN_TEMPLATE)
    with open(path, "rb") as f:
        return tomllib.load(f)


def _excel_text(template: str, **parts: str) -> str:
    """A text template with Excel expressions in it → one string formula: '="..."&expr&"..."'."""
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append('"' + template[pos:m.start()].replace('"', '""') + '"')
        out.append(parts[m.group(1)])
        pos = m.end()
    out.append('"' + template[pos:].replace('"', '""') + '"')
    return Formula("=" + "&".join(x for x in out if x != '""'))  # a formula: a plain str is text


def plan_layout(plan: pd.DataFrame, year: int, today: dt.date, texts: dict[str, str] | None = None,
                loose: list[tuple[int, int, Any]] | None = None, notice: str = "",
                signed: list[str] | None = None) -> Layout:
    """Title, generated date, header row at A3, rows by month (outline level 1) each followed by a
    subtotal row (formulas: visits planned / done in the month), A4 landscape, fit to width.
    ``loose`` cells (staff's, from outside the old plan's table) go under the year total, one row
    apart, in their columns and order. ``notice`` is added to the note under the title (e.g. the
    year's holidays are an estimate). Under the total, the sign-off row (``sign`` of plan.toml:
    编制 / 审核 / 批准 / 日期); ``signed`` are the old sign-off row's texts (编制：张三), kept."""
    t = texts or plan_texts()
    table = plan_table(year)
    cols = table.columns
    n = len(cols)
    lay = Layout(table.sheet, orientation=t.get("orientation", "landscape"), fit_width=True,
                 print_title_rows=f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"A{FIRST_ROW}",
                 footer=t.get("footer", ""))
    lay.put(1, 1, t["title"].format(year=year), "title")
    lay.merge(1, 1, 1, n)
    lay.heights[1] = 30
    lay.put(2, 1, "　".join(x for x in (t.get("note", ""), notice) if x), "notice" if notice else "note")
    lay.merge(2, 1, 2, n - 4)
    lay.put(2, n - 3, t["generated"].format(today=today.isoformat()), "subtitle")
    lay.merge(2, n - 3, 2, n)
    for c, col in enumerate(cols, start=1):
        lay.put(HEADER_ROW, c, col.header, "header")
        lay.widths[c] = col.width
    # staff's own columns, after ours, in the order they had them
    extras = [k for k in plan.columns if str(k).startswith(EXTRA)]
    extra_col = {k: n + i for i, k in enumerate(extras, start=1)}
    for k, c in extra_col.items():
        lay.put(HEADER_ROW, c, k[len(EXTRA):], "header")
        lay.widths[c] = 12
    lay.heights[HEADER_ROW] = 20
    r = FIRST_ROW
    col_of = {col.key: i for i, col in enumerate(cols, start=1)}
    pid_l, state_l = col_letter(col_of["project_id"]), col_letter(col_of["state"])
    months = plan["date"].map(lambda d: (d.year, d.month) if d else (9999, 99))
    for (y, m), group in plan.groupby(months, sort=True):
        first = r
        for row in group.to_dict("records"):  # plain dicts: iterrows is slow over 10,000 visits
            changed = bool(row.get("changed", False))
            for col in cols:
                v = row.get(col.key)
                v = None if is_blank(v) else v
                if col.kind == "date":
                    style = "changed_date" if changed else "date"
                elif col.key == "seq":
                    style = "int" if not changed else "changed"
                else:
                    style = "changed" if changed else "cell"
                lay.put(r, col_of[col.key], v, style)
            for k, c in extra_col.items():
                v = row.get(k)
                lay.put(r, c, None if is_blank(v) else v, "changed" if changed else "cell")
            lay.outline[r] = 1
            r += 1
        last = r - 1
        for c in range(1, n + len(extras) + 1):
            lay.put(r, c, None, "subtotal")
        text, label = t["month_subtotal"], str(m)
        if y == 9999:
            text, label = text.replace("{month}月", "{month}"), t["unknown_month"]
        lay.put(r, col_of["name"], _excel_text(
            text, month=f'"{label}"', count=f"COUNTA({pid_l}{first}:{pid_l}{last})",
            done=f'COUNTIF({state_l}{first}:{state_l}{last},"已回访")'), "subtotal")
        lay.merge(r, col_of["name"], r, col_of["parts"])
        r += 1
    lay.put(r, 1, _excel_text(t["year_total"], count=f"COUNTA({pid_l}{FIRST_ROW}:{pid_l}{max(r - 1, FIRST_ROW)})",
                              done=f'COUNTIF({state_l}{FIRST_ROW}:{state_l}{max(r - 1, FIRST_ROW)},"已回访")'),
            "subtotal")
    for c in range(2, n + 1):
        lay.put(r, c, None, "subtotal")
    lay.merge(r, 1, r, n)
    lay.autofilter = f"A{HEADER_ROW}:{col_letter(n + len(extras))}{max(r - 1, HEADER_ROW)}"
    fit_row_heights(lay, [2] + list(range(FIRST_ROW, r)))
    staff_column_checks(lay, cols, FIRST_ROW, r - 1)
    # the sign-off row, one blank row under the total, spread over the page width
    total_row = r
    sign = list(t.get("sign") or [])
    if sign:
        # what staff wrote in the old sign-off row (编制：张三) stays, in its place
        kept = {}
        for v in (signed or []):
            label = next((x for x in sign if v.strip().startswith(x)), None)
            if label is not None and label not in kept:
                kept[label] = v
        r += 2
        step = max(1, n // len(sign))
        for i, label in enumerate(sign):
            c = 1 + i * step
            lay.put(r, c, kept.get(label, label), "sign_label")
            lay.merge(r, c, r, min(n, c + step - 1))
        lay.heights[r] = 28
    lay.meta["total_row"], lay.meta["sign_row"] = total_row, r if sign else None
    if loose:
        top = min(row for row, _, _ in loose)
        for row, c, v in loose:
            lay.put(r + 2 + row - top, c, v)
            if r + 2 + row - top != row:
                lay.meta.setdefault("moved", []).append((row, c, r + 2 + row - top))
    lay.print_area = f"A1:{col_letter(max(n + len(extras), lay.max_col))}{lay.max_row}"
    return lay


#: plan rows past their date and not done (状态 blank or 未回访, no 实际回访日期) are filled
OVERDUE_FILL = "FFC7CE"


def staff_column_checks(lay: Layout, cols, first: int, last: int) -> None:
    """What Excel checks as staff type on the plan, from the schema's columns: the dropdowns
    (回访方式, 状态 from their choices, 负责人 from the staff list 人员名单: a name not in it is
    questioned, not refused), 实际回访日期 a real date; and a conditional fill on rows whose
    计划日期 has passed and that are not done, so the highlight moves on by itself as days pass.

    >>> from pyfuncs.schema import plan_table
    >>> lay = Layout("p"); staff_column_checks(lay, plan_table(2026).columns, 4, 20)
    >>> [(v.ref, v.kind, v.source or "、".join(v.choices), v.strict) for v in lay.validations]
    [('K4:K20', 'list', '实地、电话、座谈、问卷', True), ('L4:L20', 'list', '=人员名单', False), ('M4:M20', 'list', '未回访、已回访、已取消、已改期', True), ('N4:N20', 'date', '', True)]
    >>> lay.cond_fills[0].formula
    '=AND(ISNUMBER($B4),$B4<TODAY(),OR(TRIM($M4)="",TRIM($M4)="未回访"),TRIM($N4)="")'
    """
    from pyfuncs.layout import CondFill, Validation
    from pyfuncs.schema import DATE_VALID, LIST_NAMES, date_error  # noqa: F401 - DATE_VALID: the writers'

    if last < first:
        return
    at = {c.key: i for i, c in enumerate(cols, start=1)}
    for c in cols:
        if c.computed:
            continue
        ref = f"{col_letter(at[c.key])}{first}:{col_letter(at[c.key])}{last}"
        if c.list_source:
            lst = LIST_NAMES[c.list_source]
            lay.validations.append(Validation(ref, source="=" + lst.name, strict=lst.strict,
                                              error=f"「{c.header}」不在{lst.name}中（设置工作表）；仍要填写请点“是”"))
        elif c.choices:
            lay.validations.append(Validation(ref, choices=tuple(c.choices),
                                              error=f"「{c.header}」只能填写：" + "、".join(c.choices)))
        elif c.kind == "date":
            lay.validations.append(Validation(ref, kind="date", error=date_error(c.header)))
    d, st, ac = (f"${col_letter(at[k])}{first}" for k in ("date", "state", "actual"))
    lay.cond_fills.append(CondFill(
        f"A{first}:{col_letter(len(cols))}{last}",
        f'=AND(ISNUMBER({d}),{d}<TODAY(),OR(TRIM({st})="",TRIM({st})="{DEFAULT_STATE}"),TRIM({ac})="")',
        OVERDUE_FILL))


# --- the job ----------------------------------------------------------------------------------
def read_plan(book, year: int):
    """The existing plan sheet of ``year`` as a :class:`pyfuncs.tables.Frame` (None if absent).
    Staff columns come from the raw cells (a value outside the dropdown is still staff's text);
    subtotal rows (no 项目编号) are dropped. ``frame.plan`` holds the plan rows (with staff's own
    columns as ``extra:<header>``), ``frame.loose`` staff's cells outside the plan's table."""
    from pyfuncs.tables import read_table

    table = plan_table(year)
    if not book.has_sheet(table.sheet):
        return None
    frame = read_table(book, table)
    if not frame.cols:
        return None
    df = frame.raw.copy()
    for k in ("date", "actual"):
        df[k] = frame.df[k].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date())
        raw_bad = frame.raw[k].map(lambda v: not is_blank(v)) & frame.df[k].isna()
        df.loc[raw_bad, k] = frame.raw.loc[raw_bad, k]  # keep staff's unparseable text as is
    extras, frame.loose, frame.signed = _staff_cells(book, frame)
    for header, values in extras.items():
        df[EXTRA + header] = values
    df = df[df["project_id"].map(cell_text) != ""]
    frame.plan = df
    return frame


EXTRA = "extra:"  # plan columns staff added to the sheet, carried as "extra:<header>"


def _staff_cells(book, frame) -> tuple[dict[str, list[Any]], list[tuple[int, int, Any]], list[str]]:
    """What staff put on the plan sheet beyond the schema's columns, so a regenerated plan loses
    none of it:

    - their own columns, header → values aligned with ``frame.raw``'s rows: a header not in the
      schema; a column with no header but values in plan rows gets the header 未命名（原X列）, a
      repeated header gets （原X列） added;
    - loose cells (row, column, value): everything else outside what the plan generates (beside
      the title, beside the subtotal rows, under the year total), written back under the new year
      total (:func:`plan_layout`), in the same columns and the same order;
    - the sign-off row's texts (编制：张三), which go back into the new sign-off row.

    Values are read as values (a formula as its last result)."""
    height, width = book.extent(frame.sheet)
    if not height or not width:
        return {}, [], []
    grid = book.read(frame.sheet, (1, 1, height, width))
    hr = frame.header_row
    n = len(frame.table.columns)
    ours = set(frame.cols.values())
    schema_headers = {c.header for c in frame.table.columns}
    rows = [int(r) for r in frame.raw.index]
    pids = frame.raw["project_id"].map(cell_text)
    kinds = frame.raw["kind"].map(cell_text) if "kind" in frame.raw else pd.Series("", index=frame.raw.index)
    data_rows = {int(r) for r in frame.raw.index[(pids != "").to_numpy()]}
    generated = [int(r) for r in frame.raw.index[((pids != "") & (kinds != "")).to_numpy()]]
    table_end = max(generated) + 2 if generated else hr + 1  # the old year total row

    def cell(r: int, c: int) -> Any:
        row = grid[r - 1] if r - 1 < len(grid) else []
        return row[c - 1] if c - 1 < len(row) else None

    extras: dict[str, list[Any]] = {}
    carried = set(ours)
    for col in range(1, width + 1):
        if col in ours:
            continue
        h = cell(hr, col)
        values = [cell(r, col) for r in rows]
        if is_blank(h):
            if not any(not is_blank(cell(r, col)) for r in data_rows):
                continue
            name = f"未命名（原{col_letter(col)}列）"
        else:
            name = str(h).strip()
            if name in extras or name in schema_headers:
                name = f"{name}（原{col_letter(col)}列）"
        extras[name] = values
        carried.add(col)
    loose, signed = [], []
    labels = tuple(plan_texts().get("sign") or ())
    for r, row in enumerate(grid, start=1):
        for c, v in enumerate(row, start=1):
            if v is None or is_blank(v):
                continue
            if r == table_end + 2 and labels and isinstance(v, str) and v.strip().startswith(labels):
                signed.append(v)  # the sign-off row: regenerated with what staff wrote in it
                continue
            if r < hr and c <= n:
                continue  # the title and its notes: regenerated
            if (r == hr or r in data_rows) and c in carried:
                continue  # headers and plan rows: regenerated or carried
            if hr < r <= table_end and r not in data_rows and c in (1, frame.cols.get("name")):
                continue  # the subtotal and year total texts: regenerated
            loose.append((r, c, v))
    return extras, loose, signed


def holiday_notice(years: list[int], dates: str = "计划日期", then: str = "再重新生成计划") -> str:
    """The note for a plan (or check) whose year's holidays the holidays package only estimates.

    >>> holiday_notice([2027])
    '2027年的法定节假日和调休上班日国务院尚未公布（本程序所用的 holidays 程序包只能按节日规则估算），计划日期可能落在届时公布的放假日；公布后请在「节假日」表逐日录入（放假日类型填“休”，调休上班日填“班”），再重新生成计划'
    """
    ys = "、".join(f"{y}" for y in years)
    return (f"{ys}年的法定节假日和调休上班日国务院尚未公布（本程序所用的 holidays 程序包只能按节日规则估算），"
            f"{dates}可能落在届时公布的放假日；公布后请在「节假日」表逐日录入（放假日类型填“休”，调休上班日填“班”），"
            + then)


def run(book, opts: JobOptions) -> JobResult:
    from pyfuncs.core.calendar import estimated_years
    from pyfuncs.core.callbacks import plan_visits
    from pyfuncs.jobs._common import raw_bad_values, settings_and_calendar, terms_with_ends, usable_projects
    from pyfuncs.schema import PROJECTS, TERMS
    from pyfuncs.tables import append_rows, read_table

    year = opts.year or opts.today.year
    result = JobResult("plan")
    settings, calendar, problems = settings_and_calendar(book)
    result.problems += problems
    projects = read_table(book, PROJECTS)
    terms = read_table(book, TERMS)
    result.problems += projects.problems + terms.problems
    # what staff wrote on last run's plan, read before the first write: the sheet is regenerated
    # as a whole, so a file book need not parse it again when it loads for writing
    old = read_plan(book, year)
    book.will_replace(plan_table(year).sheet)
    book.progress(1, 3, f"为{year}年度回访计划补充保修条款")
    good_projects = usable_projects(projects)
    add = missing_terms(good_projects, terms.df)
    if len(add):
        append_rows(book, terms, add)
        terms = read_table(book, TERMS)
        result.messages.append(f"为 {add['project_id'].nunique()} 个项目补充了保修条款（每个项目 {len(PART_LABELS)} 行，按法定期限）")
    good_terms = terms.good
    tw, bad_ends = terms_with_ends(good_projects, good_terms, settings, raw_bad_values(projects, "design_life"))
    for row, msg in bad_ends.items():
        result.problems.append(Problem(TERMS.sheet, row, TERMS.column("end").header, msg, "提示"))
    for row, msg in zip(tw.index, tw["term_error"]):
        if msg:
            result.problems.append(Problem(TERMS.sheet, int(row), TERMS.column("term").header, msg))
    tw = tw[~tw["end"].isna()]
    book.progress(2, 3, f"计算{year}年度回访日期")
    parts = tw.assign(start=tw["start_eff"], note=tw["data_note"])
    visits = plan_visits(good_projects, parts, year, settings, calendar)
    fresh = build_plan(visits, good_projects)
    owners = {cell_text(p.get("project_id")): default_owner(p) for p in good_projects.to_dict("records")}
    merged = merge_plan(fresh, old.plan if old is not None else None, owners)
    book.progress(3, 3, f"写入{year}年度回访计划")
    estimated = estimated_years([year], {d.year for d in calendar.overrides})
    notice = holiday_notice(estimated) if estimated else ""
    if notice:
        result.problems.append(Problem(HOLIDAYS_SHEET, None, None, notice, "提示"))
    lay = plan_layout(merged, year, opts.today, loose=old.loose if old is not None else None, notice=notice,
                      signed=old.signed if old is not None else None)
    moved = lay.meta.get("moved", [])
    if moved:
        r, c, to = moved[0]
        result.problems.append(Problem(
            plan_table(year).sheet, r, col_letter(c),
            f"第{r}行{col_letter(c)}列" + (f"等 {len(moved)} 个单元格" if len(moved) > 1 else "的内容")
            + f"在计划表格以外，重新生成时已原样移到年度合计行下方（第{to}行起，列不变）", "提示"))
    book.put_sheet(lay, after="回访记录")
    book.set_status(None)
    n_changed = int(merged["changed"].sum())
    result.summary = {
        "year": year, "sheet": plan_table(year).sheet, "rows": int(len(merged)),
        "projects": int(merged["project_id"].nunique()), "changed_rows": n_changed,
        "terms_added": int(len(add)),
        "holidays_estimated": bool(notice),
        "rows_with_notes": int(visits["notes"].astype(bool).sum()) if len(visits) else 0,
        "by_month": {int(m): int(c) for m, c in
                     merged["date"].map(lambda d: d.month if d else 0).value_counts().sort_index().items()},
    }
    result.messages.append(f"{plan_table(year).sheet}：{len(merged)} 次回访，涉及 {result.summary['projects']} 个项目"
                           + (f"；{n_changed} 行为计划变更后保留的旧计划（备注已标明）" if n_changed else ""))
    if result.summary["rows_with_notes"]:
        result.messages.append(f"其中 {result.summary['rows_with_notes']} 次回访因项目数据缺失或有误按默认值安排，"
                               "见「回访事由及说明」列的“注”")
    if notice:
        result.messages.append(notice)
    return result
