"""Sheet ↔ typed DataFrame, driven by the schema (:mod:`pyfuncs.schema`).

:func:`read_table` finds a table's header row (the Excel table of that name, else the schema's
anchor, else the row that carries the headers), matches headers **by name** (staff may reorder
columns or add their own inside or beside the table), converts each column by its ``kind`` and
returns a :class:`Frame`: the DataFrame indexed by **Excel row number** with the schema's keys as
columns, plus every problem found (sheet, row, column header, Chinese message).

:func:`write_columns` writes back only ``computed`` columns (and ``fill_blank`` columns only where
the cell is blank), and only cells whose value actually changes, so a job touches nothing else
and running it twice changes nothing the second time. :func:`append_rows` adds rows at the end of
a table and extends the Excel table over them.

Example::

    frame = read_table(book, TABLES["repairs"])
    frame.df.loc[7, "notice"]           # the 报修日期 in Excel row 7
    frame.dates("notice")               # numpy datetime64[D] column for the core
    write_columns(book, frame, {"due": dues, "overdue": days})
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from pyfuncs.io.book import Book, Ref, col_letter, format_ref, is_blank, parse_ref, to_cell
from pyfuncs.problem import ERROR, HINT, Problem
from pyfuncs.schema import TABLES, Column, Table

#: dates a register of handed-over buildings can hold; outside: a typing mistake
SMALL_SERIAL_END = np.datetime64("1900-03-01", "D")
EARLIEST = np.datetime64("1950-01-01", "D")
LATEST = np.datetime64("2100-12-31", "D")


def norm_header(h: Any) -> str:
    if h is None:
        return ""
    return re.sub(r"\s+", "", str(h)).replace("（", "(").replace("）", ")")


@dataclass
class Frame:
    """A table read from a sheet."""

    table: Table
    sheet: str
    df: pd.DataFrame                  # typed; index = Excel row; columns = schema keys
    raw: pd.DataFrame                 # the cell values as read (same index/columns)
    header_row: int
    cols: dict[str, int]              # schema key → Excel column number (found columns only)
    ref: Ref | None                   # the Excel table's range, header included (None: no table)
    problems: list[Problem] = field(default_factory=list)
    bad: dict[int, dict[str, str]] = field(default_factory=dict)  # row → {key: message} (errors)
    extra_headers: list[str] = field(default_factory=list)
    below: tuple[int, int] | None = None  # rows read from just below the Excel table

    @property
    def rows(self) -> pd.Index:
        return self.df.index

    @property
    def bad_rows(self) -> set[int]:
        return set(self.bad)

    @property
    def good(self) -> pd.DataFrame:
        """The typed rows without an error (``df`` less ``bad_rows``): what rules may rely on."""
        return self.df[~self.df.index.isin(self.bad_rows)]

    @property
    def last_row(self) -> int:
        """The last row of the table body (data or not)."""
        last = int(self.df.index.max()) if len(self.df) else self.header_row
        if self.ref is not None:
            last = max(last, self.ref[2])
        return last

    def dates(self, key: str) -> np.ndarray:
        """A date column as ``datetime64[D]`` (NaT for blank or bad)."""
        return self.df[key].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")

    def values(self, key: str) -> np.ndarray:
        """A text/choice column as an object array (None for blank)."""
        return self.df[key].to_numpy(dtype=object)

    def has(self, key: str) -> bool:
        return key in self.cols

    def header(self, key: str) -> str:
        return self.table.column(key).header

    def problem(self, row: int | None, key: str | None, message: str, level: str = ERROR) -> Problem:
        p = Problem(self.sheet, row, self.header(key) if key else None, message, level)
        self.problems.append(p)
        if level == ERROR and row is not None:
            self.bad.setdefault(row, {})[key or ""] = message
        return p


# ---- locating the header row -----------------------------------------------------------------
def _locate(book: Book, table: Table, problems: list[Problem]) -> tuple[int, int, int, Ref | None] | None:
    """(header row, first col, last col, table ref) or None when the headers are not found."""
    ref = book.table_ref(table.sheet, table.name)
    if ref is not None:
        return ref[0], ref[1], ref[3], ref
    # no Excel table of that name: the anchor row, else the row (of the first 30) with most headers
    max_row, max_col = book.extent(table.sheet)
    if max_row == 0:
        return None
    a_row, a_col, _, _ = parse_ref(table.anchor)
    wanted = {norm_header(h) for h in table.headers}
    top = min(max_row, 30)
    grid = book.read(table.sheet, (1, 1, top, max_col))
    best, best_row, best_left = 0, None, a_col
    for i, row in enumerate(grid, start=1):
        hits = [j for j, v in enumerate(row, start=1) if norm_header(v) in wanted]
        score = len(hits) + (0.5 if i == a_row else 0)
        if hits and score > best:
            best, best_row, best_left = score, i, min(hits)
    if best_row is None or best < 2:
        return None
    row = grid[best_row - 1]
    left = best_left
    # the header block runs from the first known header to the first blank header cell
    while left > 1 and not is_blank(row[left - 2]):
        left -= 1
    right = left
    while right < len(row) and not is_blank(row[right]):
        right += 1
    problems.append(Problem(table.sheet, best_row, None,
                            f"未找到 Excel 表格 {table.name}，已按第{best_row}行的表头读取（新增行不会自动纳入表格）",
                            HINT))
    return best_row, left, right, None


def _match_headers(table: Table, headers: list[Any], left: int, header_row: int,
                   problems: list[Problem]) -> tuple[dict[str, int], list[str]]:
    by_norm = {norm_header(c.header): c for c in table.columns}
    cols: dict[str, int] = {}
    extra: list[str] = []
    for j, h in enumerate(headers):
        n = norm_header(h)
        c = by_norm.get(n)
        if c is None:
            if n:
                extra.append(str(h))
            continue
        if c.key in cols:
            problems.append(Problem(table.sheet, header_row, c.header,
                                    f"表头「{c.header}」出现了两次（{col_letter(cols[c.key])}列和{col_letter(left + j)}列），"
                                    f"只使用{col_letter(cols[c.key])}列", ERROR))
            continue
        cols[c.key] = left + j
    for c in table.columns:
        if c.key in cols:
            continue
        guess = difflib.get_close_matches(norm_header(c.header), [norm_header(e) for e in extra], n=1, cutoff=0.5)
        hint = f"；「{guess[0]}」列是否就是它（被改名了）？请把表头改回「{c.header}」" if guess else ""
        if c.required:
            msg, level = f"缺少必需的列「{c.header}」{hint}", ERROR
        elif (c.computed or c.fill_blank) and c.optional:
            msg, level = f"缺少「{c.header}」列，该列不计算（需要时在表头添加此列）{hint}", HINT
        elif c.computed or c.fill_blank:
            msg, level = f"缺少「{c.header}」列，计算结果无法写入{hint}", ERROR
        else:
            msg, level = f"缺少「{c.header}」列，按空白处理{hint}", HINT
        problems.append(Problem(table.sheet, header_row, c.header, msg, level))
    return cols, extra


# ---- typing -------------------------------------------------------------------------------------
def _text(v: Any) -> Any:
    if type(v) is str:  # most cells: one strip, no type tests
        return v.strip() or None
    if is_blank(v):
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v == dt.datetime(v.year, v.month, v.day) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _type_column(frame: Frame, c: Column, raw: pd.Series) -> pd.Series:
    rows = raw.index
    if c.kind == "date":
        from pyfuncs.core.dates import to_dates

        arr, errors = to_dates(raw.to_numpy(dtype=object))
        for pos, msg in errors.items():
            frame.problem(int(rows[pos]), c.key, msg)
        if not c.computed and len(arr):
            # a date the register cannot hold: a small number typed into a date cell (Excel shows
            # serials 1–60 as January–February 1900), or a mistyped year
            tiny = ~np.isnat(arr) & (arr < SMALL_SERIAL_END)
            early = ~np.isnat(arr) & ~tiny & (arr < EARLIEST)
            late = ~np.isnat(arr) & (arr > LATEST)
            for i in np.flatnonzero(tiny):
                frame.problem(int(rows[i]), c.key, f"日期无效：{arr[i]} 是一个很小的数字被当作日期（Excel 日期序号1–60，"
                                                   "其中序号60是不存在的1900-02-29），多半是误输入")
            for i in np.flatnonzero(early):
                frame.problem(int(rows[i]), c.key, f"日期无效：{arr[i]} 早于{EARLIEST.astype(object).year}年，多半是误输入")
            for i in np.flatnonzero(late):
                frame.problem(int(rows[i]), c.key, f"日期无效：{arr[i]} 晚于{LATEST.astype(object).year}年，多半是误输入")
            arr = np.where(tiny | early | late, np.datetime64("NaT", "D"), arr)
        return pd.Series(arr.astype("datetime64[s]"), index=rows)
    if c.kind in ("int", "number"):
        vals = raw.to_numpy(dtype=object)
        out = np.full(len(vals), np.nan)
        for i, v in enumerate(vals):
            if is_blank(v):
                continue
            if isinstance(v, bool):
                ok = False
            else:
                try:
                    f = float(str(v).strip().replace(",", "").replace("，", "")) if isinstance(v, str) else float(v)
                    ok = np.isfinite(f)
                except (TypeError, ValueError):
                    ok = False
            if not ok:
                frame.problem(int(rows[i]), c.key, f"「{c.header}」应为数字，实为「{v}」")
                continue
            if c.kind == "int" and not float(f).is_integer():
                frame.problem(int(rows[i]), c.key, f"「{c.header}」应为整数，实为「{v}」")
                continue
            if c.kind == "int" and not c.computed and f <= 0:
                frame.problem(int(rows[i]), c.key, f"「{c.header}」应为正整数，实为「{v}」")
                continue
            out[i] = f
        if c.kind == "int":
            return pd.Series(pd.array(np.where(np.isnan(out), None, out), dtype="Int64"), index=rows)
        return pd.Series(out, index=rows)
    texts = pd.Series([(v.strip() or None) if type(v) is str else None if v is None else _text(v)
                       for v in raw.to_numpy(dtype=object)],
                      index=rows, dtype=object)  # text cells without a call each: most of a ledger
    if c.kind == "choice" and c.choices and not c.computed:
        bad = texts.notna() & ~texts.isin(c.choices)
        for r in texts.index[bad.to_numpy()]:
            frame.problem(int(r), c.key, f"「{texts[r]}」不是可选的值（可选：{'、'.join(c.choices)}）")
        texts = texts.where(~bad, None)
    return texts


def read_table(book: Book, table: Table | str) -> Frame:
    """Read ``table`` (a :class:`Table` or its key in ``TABLES``) into a typed :class:`Frame`."""
    if isinstance(table, str):
        table = TABLES[table]
    problems: list[Problem] = []
    empty_cols = [c.key for c in table.columns]
    if not book.has_sheet(table.sheet):
        problems.append(Problem(table.sheet, None, None, f"缺少工作表「{table.sheet}」", ERROR))
        df = pd.DataFrame(columns=empty_cols)
        return Frame(table, table.sheet, df, df.copy(), 0, {}, None, problems)
    loc = _locate(book, table, problems)
    if loc is None:
        problems.append(Problem(table.sheet, None, None,
                                f"在工作表「{table.sheet}」中找不到表格 {table.name} 的表头（{'、'.join(table.headers[:3])}…）",
                                ERROR))
        df = pd.DataFrame(columns=empty_cols)
        return Frame(table, table.sheet, df, df.copy(), 0, {}, None, problems)
    header_row, left, right, ref = loc
    headers = book.read(table.sheet, (header_row, left, header_row, right))[0]
    cols, extra = _match_headers(table, headers, left, header_row, problems)
    below = None
    if ref is not None:
        bottom = ref[2]
        # rows typed or pasted right below the table without Excel extending it
        last = book.extent(table.sheet)[0]
        if last > bottom and cols:
            lo, hi = min(cols.values()), max(cols.values())
            n = 0
            for row in book.read(table.sheet, (bottom + 1, lo, last, hi)):
                if all(is_blank(v) for v in row):
                    break
                n += 1
            if n:
                below = (bottom + 1, bottom + n)
                problems.append(Problem(table.sheet, bottom + 1, None,
                                        f"第{bottom + 1}至{bottom + n}行紧接在表格 {table.name} 下方但不在表格内，"
                                        "已一并处理；写入结果时表格会扩展到这些行", HINT))
                bottom += n
    else:
        bottom = book.extent(table.sheet)[0]
    body_top = header_row + 1
    if bottom >= body_top and cols:
        lo, hi = min(cols.values()), max(cols.values())
        columns = book.read_columns(table.sheet, (body_top, lo, bottom, hi))
        n = bottom - body_top + 1
    else:
        lo, columns, n = left, [], 0
    index = pd.RangeIndex(body_top, body_top + n)
    data = {}
    for c in table.columns:
        if c.key in cols:
            data[c.key] = columns[cols[c.key] - lo]
        else:
            data[c.key] = [None] * n
    raw = pd.DataFrame(data, index=index, dtype=object)
    # drop rows where every staff column is blank (placeholder rows, cleared rows); row by row
    # with an early exit: a filled row is usually told by its first cell
    staff_keys = [c.key for c in table.columns if not c.computed] or list(raw.columns)
    if len(raw):
        staff_cols = [data[k] for k in staff_keys]
        filled = np.fromiter((any(not is_blank(col[i]) for col in staff_cols) for i in range(n)),
                             dtype=bool, count=n)
        if not filled.all():
            raw = raw[filled]
    frame = Frame(table, table.sheet, pd.DataFrame(index=raw.index), raw, header_row, cols, ref,
                  problems, {}, extra, below)
    # merged cells inside the body
    if len(raw):
        body = (body_top, min(cols.values()), bottom, max(cols.values()))
        for m in book.merged(table.sheet):
            if m[0] <= body[2] and m[2] >= body[0] and m[1] <= body[3] and m[3] >= body[1]:
                frame.problem(m[0], None, f"表格中有合并单元格 {format_ref(m)}，合并区域只保留左上角的值；"
                                          "请取消合并，每行单独填写。这些行已跳过")
                for r in range(m[0] + 1, m[2] + 1):
                    frame.bad.setdefault(r, {})[""] = "合并单元格"
    typed = {}
    for c in table.columns:
        typed[c.key] = _type_column(frame, c, raw[c.key])
    frame.df = pd.DataFrame(typed, index=raw.index)
    for c in table.columns:
        if c.required and c.key in cols and len(raw):
            missing = frame.df[c.key].isna().to_numpy() & raw[c.key].map(is_blank).to_numpy()
            for r in raw.index[missing]:
                frame.problem(int(r), c.key, f"「{c.header}」必须填写")
    return frame


# ---- writing ------------------------------------------------------------------------------------
def _same(old: Any, new: Any) -> bool:
    if is_blank(old) and is_blank(new):
        return True
    if is_blank(old) or is_blank(new):
        return False
    if isinstance(old, dt.datetime) and not isinstance(new, dt.datetime):
        old = old.date() if old == dt.datetime(old.year, old.month, old.day) else old
    if isinstance(old, (int, float)) and not isinstance(old, bool) and isinstance(new, (int, float)):
        return float(old) == float(new)
    if type(old).__name__ == "CellRichText":
        old = str(old)
    return old == new


def _cell_values(vals: pd.Series) -> list[Any]:
    """A column as cell values (:func:`to_cell` of each); a date column whose values are whole
    days is converted in one numpy call (NaT → None)."""
    if pd.api.types.is_datetime64_dtype(vals.dtype):
        arr = vals.to_numpy(dtype="datetime64[s]")
        days = arr.astype("datetime64[D]")
        if (np.isnat(arr) | (arr == days)).all():
            return days.astype(object).tolist()  # datetime.date objects, None for NaT
    return [to_cell(v) for v in vals.to_numpy(dtype=object)]


def _cell_formats(c: Column) -> str | None:
    return c.format if c.kind in ("date", "int", "number") else None


def write_columns(book: Book, frame: Frame, values: Mapping[str, Any] | pd.DataFrame,
                  rows: Iterable[int] | None = None) -> int:
    """Write computed columns back; returns the number of cells changed.

    ``values`` maps schema keys to Series indexed by Excel row (or arrays aligned with
    ``frame.df``); ``rows`` restricts the rows written. Only ``computed`` columns are written,
    ``fill_blank`` columns only where the cell is blank; writing any other column is a bug and
    raises ``ValueError``. Unchanged cells are not touched.
    """
    if isinstance(values, pd.DataFrame):
        values = {k: values[k] for k in values.columns}
    cells: dict[tuple[int, int], Any] = {}
    formats: dict[int, str | None] = {}
    keep = None if rows is None else set(int(r) for r in rows)
    for key, vals in values.items():
        c = frame.table.column(key)
        if not (c.computed or c.fill_blank):
            raise ValueError(f"column {key!r} of {frame.table.name} belongs to staff; jobs may not write it")
        col = frame.cols.get(key)
        if col is None:
            continue
        if not isinstance(vals, pd.Series):
            vals = pd.Series(list(vals) if not isinstance(vals, np.ndarray) else vals, index=frame.df.index)
        old = frame.raw[key] if key in frame.raw else pd.Series(dtype=object)
        before = old.reindex(vals.index).to_numpy(dtype=object)  # one lookup for the column
        only_blank = c.fill_blank and not c.computed
        for r, new, prev in zip(vals.index.tolist(), _cell_values(vals), before):
            if keep is not None and r not in keep:
                continue
            if prev is not None and is_blank(prev):
                prev = None
            if prev is None:
                if new is not None:
                    cells[(r, col)] = new  # a blank cell gets a value: the typed ledger's case
                continue
            if only_blank:
                continue
            if type(new) is type(prev) and new == prev or _same(prev, new):
                continue  # the common case first, decided without _same's conversions
            cells[(r, col)] = new
        formats[col] = _cell_formats(c)
    book.write_cells(frame.sheet, cells, formats)
    if cells:
        extend_table(book, frame)
    # keep the frame in step with the sheet: one assignment per column, not one per cell
    key_of = {cc: k for k, cc in frame.cols.items()}
    by_key: dict[str, dict[int, Any]] = {}
    for (r, col), v in cells.items():
        by_key.setdefault(key_of[col], {})[r] = v
    for key, changed in by_key.items():
        upd = pd.Series(changed, dtype=object)
        upd = upd[upd.index.isin(frame.raw.index)]
        if len(upd):
            if frame.raw[key].dtype != object:
                frame.raw[key] = frame.raw[key].astype(object)
            frame.raw.loc[upd.index, key] = upd
    return len(cells)


def append_rows(book: Book, frame: Frame, data: pd.DataFrame | list[Mapping[str, Any]]) -> list[int]:
    """Append rows (schema keys → values) after the table's last data row and extend the Excel
    table over them. Returns the new rows' Excel row numbers. Any column may be written here:
    these are new rows."""
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(list(data))
    if not len(data) or not frame.cols:
        return []
    start = (int(frame.df.index.max()) if len(frame.df) else frame.header_row) + 1
    rows = list(range(start, start + len(data)))
    for key in data.columns:
        col = frame.cols.get(key)
        if col is None:
            continue
        c = frame.table.column(key)
        block = [[v] for v in data[key].to_numpy(dtype=object)]
        book.write(frame.sheet, start, col, block, [_cell_formats(c)])
    extend_table(book, frame, rows[-1])
    return rows


def extend_table(book: Book, frame: Frame, end: int | None = None) -> None:
    """Extend the Excel table down to ``end`` (default: the rows found just below it)."""
    if frame.ref is None:
        return
    if end is None:
        end = frame.below[1] if frame.below else frame.ref[2]
    if end > frame.ref[2]:
        t, l, _, r = frame.ref
        frame.ref = (t, l, end, r)
        book.resize_table(frame.sheet, frame.table.name, frame.ref)


# ---- settings and calendar --------------------------------------------------------------------
def read_settings(book: Book):
    """The 设置 sheet → (Settings, problems)."""
    from pyfuncs.core.settings import Settings

    problems: list[Problem] = []
    st = read_table(book, TABLES["settings"])
    problems += [p for p in st.problems]
    rows = [(r, st.raw.at[r, "name"], st.raw.at[r, "value"]) for r in st.raw.index]
    label_row = {str(n).strip(): r for r, n, _ in rows if not is_blank(n)}
    settings, msgs = Settings.from_rows([(n, v) for _, n, v in rows])
    for m in msgs:
        lab = re.search(r"「([^」]*)」", m)
        row = label_row.get(lab.group(1)) if lab else None
        problems.append(Problem(st.sheet, row, "值" if row else None, m, ERROR))
    se = read_table(book, TABLES["seasons"])
    # 来源及说明 is for people only: a season table from an older build without it is fine
    source = se.header("source")
    problems += [p for p in se.problems if not (p.column == source and p.level == HINT)]
    if len(se.raw):
        idx = list(se.raw.index)
        srows = [tuple(se.raw.loc[r, k] for k in ("city", "heat_start", "heat_end", "cool_start", "cool_end"))
                 for r in idx]
        settings, sprobs = settings.with_seasons(srows)
        from pyfuncs.core.settings import parse_month_day

        for i, m in sprobs:
            column = None
            for key in ("heat_start", "heat_end", "cool_start", "cool_end"):
                v = se.raw.at[idx[i], key]
                if is_blank(v) and key.startswith("cool"):
                    continue
                try:
                    parse_month_day(v)
                except (ValueError, TypeError):
                    column = se.header(key)
                    m = (f"城市「{se.raw.at[idx[i], 'city']}」的「{column}」「{'' if is_blank(v) else v}」"
                         "不是有效的月-日（应写作 11-15），该城市按默认季节计算")
                    break
            problems.append(Problem(se.sheet, int(idx[i]), column, m, ERROR))
    return settings, problems


def read_calendar(book: Book):
    """The 节假日 sheet → (WorkCalendar, problems)."""
    from pyfuncs.core.calendar import WorkCalendar, overrides_from_rows

    ht = read_table(book, TABLES["holidays"])
    idx = list(ht.raw.index)
    rows = set(idx)
    problems = [p for p in ht.problems if not (p.row in rows and p.column in ("日期", "类型"))]
    overrides, probs = overrides_from_rows(
        [(ht.raw.at[r, "date"], ht.raw.at[r, "type"], ht.raw.at[r, "note"]) for r in idx])
    for item in probs:
        i, col, msg = item if len(item) == 3 else (item[0], None, item[1])
        problems.append(Problem(ht.sheet, int(idx[i]), col, msg, ERROR))
    return WorkCalendar(overrides), problems
