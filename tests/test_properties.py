"""Property tests over whole jobs: random ledgers with random staff edits, every job run twice.

For any workbook staff could have typed (good and bad values mixed, extra columns and sheets):
- no job changes a staff cell (only computed columns, fill-blank columns, appended rows and
  generated sheets may differ);
- running every job a second time changes nothing at all.
"""
from __future__ import annotations

import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings, strategies as st

from pyfuncs.cli import run_job_on_file
from pyfuncs.core.parts import PART_LABELS
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import JobOptions
from pyfuncs.schema import CAUSES, SATISFACTION, SIZES, TABLES, URGENCIES, VISIT_KINDS, VISIT_WAYS
from pyfuncs.tables import append_rows, read_table

TODAY = dt.date(2026, 11, 21)
JOBS = ("plan", "refresh", "visits", "refresh", "report", "check")
GENERATED = {"统计", "检查结果", "自检结果"}


@functools.lru_cache(maxsize=1)
def built() -> Path:
    from pyfuncs.build import build_workbook

    path = Path(tempfile.mkdtemp(prefix="props-")) / "blank.xlsm"
    build_workbook(path)
    return path


good_dates = st.dates(dt.date(2016, 1, 1), dt.date(2026, 11, 20))
cell_dates = st.one_of(
    good_dates,
    good_dates.map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    good_dates.map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.sampled_from(["2026-13-01", "下周", "", None, 60, "2025-02-29"]),
)
project_ids = st.sampled_from(["P01", "P02", "P03", "P04", "P9?"])


def maybe_bad(choices, bad=("???", "", None)):
    return st.one_of(st.sampled_from(list(choices)), st.sampled_from(list(bad)))


projects = st.lists(
    st.fixed_dictionaries({
        "project_id": st.sampled_from(["P01", "P02", "P03", "P04"]),
        "name": st.text("楼房路工程=+-AZ ", min_size=1, max_size=8),
        "city": maybe_bad(["北京", "哈尔滨", "太原", "上海"], ("火星", None)),
        "size": maybe_bad(SIZES),
        "accepted": cell_dates,
        "design_life": st.one_of(st.none(), st.sampled_from([50, 70, -1, "很久"])),
        "four_new": maybe_bad(["是", "否"]),
    }),
    min_size=1, max_size=4, unique_by=lambda p: p["project_id"],
)
repairs = st.lists(
    st.fixed_dictionaries({
        "ticket_id": st.one_of(st.none(), st.sampled_from(["BX2026-0001", "BX2026-0002", "手写-1"])),
        "project_id": project_ids,
        "notice": cell_dates,
        "part": maybe_bad(PART_LABELS, ("屋顶", None)),
        "place": st.sampled_from(["1单元", "地下室", "=1+1", None]),
        "problem": st.sampled_from(["渗水", "开裂", "=cmd|' /C calc'!A0", None]),
        "urgency": maybe_bad(URGENCIES, ("特急", None)),
        "cause": maybe_bad(CAUSES, ("天灾", None)),
        "arrival": st.one_of(st.none(), cell_dates),
        "state": st.one_of(st.none(), st.sampled_from(["待派工", "已完成"])),
        "cost": st.one_of(st.none(), st.integers(0, 5000), st.just("五百")),
    }),
    max_size=8,
)
visits = st.lists(
    st.fixed_dictionaries({
        "date": cell_dates,
        "project_id": project_ids,
        "kind": maybe_bad(VISIT_KINDS),
        "way": maybe_bad(VISIT_WAYS),
        "problems": st.sampled_from(["", "外墙渗水", None]),
        "satisfaction": maybe_bad(SATISFACTION, ("还行", None)),
    }),
    max_size=4,
)
staff_extras = st.lists(st.tuples(st.integers(1, 30), st.integers(30, 40), st.text("备注甲乙=1", min_size=1, max_size=6)),
                        max_size=5)


def snapshot(path: Path, *, everything: bool = False) -> dict[tuple[str, int, int], object]:
    wb = openpyxl.load_workbook(path)
    skip: dict[str, set[int]] = {}
    if not everything:
        for t in TABLES.values():
            ws = wb[t.sheet]
            if t.name in ws.tables:
                top = int("".join(ch for ch in ws.tables[t.name].ref.split(":")[0] if ch.isdigit()))
                cols = {c.value: c.column for c in ws[top] if c.value is not None}
                skip.setdefault(t.sheet, set()).update(cols[c.header] for c in t.computed_columns if c.header in cols)
    out = {}
    for ws in wb.worksheets:
        if not everything and (ws.title in GENERATED or ws.title.startswith("回访计划")):
            continue
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and c.column not in skip.get(ws.title, ()):
                    out[(ws.title, c.row, c.column)] = c.value
    return out


def run_all(path: Path) -> None:
    for job in JOBS:
        run_job_on_file(job, path, JobOptions(today=TODAY, year=TODAY.year))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(projects=projects, repairs=repairs, visits=visits, extras=staff_extras)
def test_jobs_keep_staff_cells_and_are_idempotent(projects, repairs, visits, extras):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "aftercare.xlsm"
        shutil.copy(built(), path)
        with FileBook.open(path) as book:
            for key, rows in (("projects", projects), ("repairs", repairs), ("visits", visits)):
                if rows:
                    append_rows(book, read_table(book, TABLES[key]), rows)
            book.save()
        wb = openpyxl.load_workbook(path, keep_vba=True)
        ws = wb["报修台账"]
        for r, c, text in extras:  # staff notes in columns beside the table
            ws.cell(r, c).value = text
        wb.create_sheet("我的笔记")["B2"] = "别动我"
        wb.save(path)

        before = snapshot(path)
        run_all(path)
        after = snapshot(path)
        changed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
        assert not changed, changed

        once = snapshot(path, everything=True)
        run_all(path)
        twice = snapshot(path, everything=True)
        diff = {k: (once.get(k), twice.get(k)) for k in set(once) | set(twice) if once.get(k) != twice.get(k)}
        assert not diff, diff
