"""Small helpers the plan/visits/report/forms jobs share, built only on the :class:`Book` primitives.

Table reading/writing itself is :mod:`pyfuncs.tables` (the IO layer); these are the extras:
- :func:`write_updates`: {Excel row: {key: value}} → cells of a generated sheet (the plan).
- :func:`settings_and_calendar`: 设置 + 城市季节 + 节假日 → (Settings, WorkCalendar, problems).
- :func:`terms_with_ends`: warranty ends per 保修条款 row, defaults and notes where a cell is bad.
- :func:`usable_projects`: the 项目台账 rows a job can use (a bad optional cell does not drop one).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pyfuncs.io.book import Book, is_blank, to_cell


def write_updates(book: Book, frame, updates: dict[int, dict[str, Any]]) -> int:
    """Write {Excel row: {key: value}} on ``frame``'s sheet (any column: used only for sheets this
    package generates, e.g. the plan); returns the number of cells written."""
    cells: dict[tuple[int, int], Any] = {}
    fmts: dict[int, str | None] = {}
    for row, kv in updates.items():
        for k, v in kv.items():
            c = frame.cols.get(k)
            if c is None:
                continue
            cells[(int(row), c)] = to_cell(v)
            col = frame.table.column(k)
            fmts[c] = col.format if col.kind in ("date", "int", "number") else None
    book.write_cells(frame.sheet, cells, fmts)
    return len(cells)


def settings_and_calendar(book: Book):
    """(Settings, WorkCalendar, problems) from the 设置 and 节假日 sheets."""
    from pyfuncs.tables import read_calendar, read_settings

    settings, p1 = read_settings(book)
    cal, p2 = read_calendar(book)
    return settings, cal, p1 + p2


def cell_text(v: Any) -> str:
    """A cell as stripped text; blank → ''."""
    return "" if is_blank(v) else str(v).strip()


def as_date(v: Any) -> dt.date | None:
    """A cell value → date, None when blank or not a date."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    from pyfuncs.core.dates import DateError, to_date

    try:
        return to_date(v)
    except (DateError, ValueError, TypeError):
        return None


def terms_with_ends(projects: pd.DataFrame, terms: pd.DataFrame, settings,
                    raw_lives: dict[str, Any] | None = None) -> tuple[pd.DataFrame, dict[int, str]]:
    """保修条款 (typed, from :func:`pyfuncs.tables.read_table`) with ``start_eff`` (起算日期, else
    the project's 竣工验收日期), ``end`` (datetime64[D] as datetime64[s]), ``name``/``city`` from the
    ledger, ``note`` (the row's 提示) and ``data_note`` (what a missing or unreadable input was
    replaced by), ``term_error`` (the 约定保修期 could not be read: the default was used).

    An unreadable 约定保修期 or 合理使用年限 gets the default (statutory term, default design life)
    with a note, as refresh does: only what the bad cell decides is guessed. ``raw_lives``:
    project id → what staff typed in a 合理使用年限 cell the reader could not take (so the note
    can quote it). Returns the frame and {Excel row: problem} for rows whose end is unknown."""
    import numpy as np

    from pyfuncs.core.warranty import warranty_ends

    by_id = projects[~projects.index.duplicated()].drop_duplicates("project_id").set_index("project_id")
    df = terms.copy()
    pid = df["project_id"].map(lambda v: "" if is_blank(v) else str(v).strip())
    own = df["start"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    pids = list(pid)
    acc_map = by_id["accepted"].to_dict() if len(by_id) else {}
    acc = pd.to_datetime(pd.Series([acc_map.get(p) for p in pids], dtype=object), errors="coerce")
    acc = acc.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    start = np.where(np.isnat(own), acc, own)

    def look(col):  # one dict per column: a DataFrame access per row was 5 s on 20,000 terms
        m = by_id[col].to_dict() if col in by_id.columns else {}
        return [m.get(p) for p in pids]

    raw_lives = raw_lives or {}
    lives = [raw_lives[p] if p in raw_lives else (None if is_blank(v) else int(v))
             for p, v in zip(pids, look("design_life"))]
    res = warranty_ends(start, list(df["part"]), [None if is_blank(t) else t for t in df["term"]],
                        look("city"), lives, settings, fallback=True)
    df["project_id"] = pid
    df["start_eff"] = pd.Series(start, index=df.index).astype("datetime64[s]")
    df["end"] = pd.Series(res.ends, index=df.index).astype("datetime64[s]")
    df["term_used"] = [t.label() if t is not None else "" for t in (res.terms if res.terms is not None else [None] * len(df))]
    df["name"] = look("name")
    df["city"] = look("city")
    df["note"] = list(res.notes)
    df["data_note"] = list(res.data_notes) if res.data_notes is not None else [""] * len(df)
    rows = list(df.index)
    term_error = [""] * len(df)
    for i, msg in res.term_errors.items():
        term_error[i] = msg
    df["term_error"] = term_error
    problems = {int(rows[i]): str(m) for i, m in res.errors.items()}
    known = set(by_id.index)
    for i in np.flatnonzero(np.isnat(start)):
        r, p = int(rows[i]), pids[i]
        if r not in problems:
            problems[r] = ("项目不在项目台账中" if p not in known else "起算日期和竣工验收日期都为空") + "，无法计算到期日期"
    return df, problems


#: 项目台账 cells without which a project is unusable ("" = a row under a merged cell)
FATAL_PROJECT_KEYS = ("project_id", "accepted", "")


def usable_projects(frame) -> pd.DataFrame:
    """项目台账 rows a job can use: every row with a 项目编号 and a readable 竣工验收日期, however
    bad its other cells (a bad cell only changes what depends on it, and is listed by the reader).
    Bad cells are blank in the typed frame, except 项目规模: there the text staff typed is kept,
    so a note can quote it (the core plans routine visits as 中型 for anything not 大型/中型/小型).
    """
    fatal = {r for r, bad in frame.bad.items() if any(k in bad for k in FATAL_PROJECT_KEYS)}
    df = frame.df[~frame.df.index.isin(fatal)].copy()
    bad_size = [r for r, bad in frame.bad.items() if "size" in bad and r in df.index]
    if bad_size:
        df["size"] = df["size"].astype(object)
        df.loc[bad_size, "size"] = frame.raw.loc[bad_size, "size"]
    return df


def raw_bad_values(frame, key: str) -> dict[str, Any]:
    """Project id → what staff typed in ``key`` where the reader could not take it (the typed
    value is blank there): for notes that quote the cell."""
    out: dict[str, Any] = {}
    for row, bad in frame.bad.items():
        if key in bad and row in frame.raw.index:
            pid = cell_text(frame.raw.at[row, "project_id"])
            if pid and pid not in out:
                out[pid] = frame.raw.at[row, key]
    return out


#: 项目台账 columns the retention (质保金) rules read
RETENTION_INPUTS = ("settled_price", "retention_ratio", "retention_amount", "defect_start", "defect_months",
                    "retention_returned", "accepted")


def compute_retention(frame, settings, today: dt.date):
    """质保金应返还日期 and 质保金状态 for every row of the 项目台账 ``frame`` (the core's
    :func:`pyfuncs.core.retention.assess`), and the located problems (sheet, Excel row, column).

    A row where the reader could not take one of the cells the rules read (a price that is not a
    number, an unreadable date) gets no date and the status 「数据有误：…」; its problem is the
    reader's (listed once). Returns (DataFrame of ``retention_due``/``retention_status`` indexed by
    Excel row, [Problem])."""
    import numpy as np

    from pyfuncs.core.retention import assess
    from pyfuncs.problem import Problem

    df = frame.df
    r = assess(df["settled_price"], df["retention_ratio"], df["retention_amount"], df["defect_start"],
               df["accepted"], df["defect_months"], df["retention_returned"], today,
               default_months=settings.defect_months, grace_days=settings.retention_grace_days)
    rows = df.index.to_numpy()
    due = r.due.copy()
    status = r.status.copy()
    unread = np.zeros(len(df), dtype=bool)
    for i, row in enumerate(rows):
        bad = frame.bad.get(int(row), {})
        keys = [k for k in RETENTION_INPUTS if k in bad and (k != "accepted" or is_blank(frame.raw.at[row, "defect_start"]))]
        held = not (is_blank(df.at[row, "retention_ratio"]) and is_blank(df.at[row, "retention_amount"]))
        if keys and (held or any(k in ("retention_ratio", "retention_amount") for k in keys)):
            unread[i] = True
            due[i] = np.datetime64("NaT", "D")
            status[i] = "数据有误：" + "；".join(bad[k] for k in keys)
    problems = [Problem(frame.sheet, int(rows[i]), frame.header(key), msg, level)
                for i, key, msg, level in r.findings if not unread[i]]
    out = pd.DataFrame({"retention_due": due.astype("datetime64[s]"), "retention_status": status}, index=df.index)
    return out, problems
