"""Speed and memory against baselines measured in the same run: ``python -m pyfuncs.bench``.

Prints, for each figure, our time, the baseline's time and the ratio, with the issue's target.
Nothing here is asserted by the test suite (timings vary by machine); the suite only runs a tiny
``--quick`` pass to prove the script works.

Figures:

- core: warranty ends + repair deadlines + overdue days over N rows (default 1,000,000)
  vs a per-row ``dateutil.relativedelta`` loop (target ≥ 20× faster) and vs bare numpy month
  arithmetic (target within 3×);
- udfs: every worksheet function on a 100,000-row range, µs per row (target ≤ 2 µs);
- AC_CALLBACKS: one call per project (a sheet lists 2,000 projects), ms per call (target ≤ 1 ms),
  and against the ledger planner given a one-row ledger per project; the ledger planner over
  2,000 demo projects and their 保修条款 rows (target: well under a second);
- jobs: refresh the next morning, refresh of a ledger typed in without computed values, and plan
  the next year again, on a workbook of 2,000 projects and 20,000 tickets, end to end on the file
  (open, lock, job, safe save with backup), against a bare openpyxl load and save of the same file
  (target ≤ 0.25×), against the floor — python-calamine reading every sheet plus a zip copy that
  re-deflates only the members the job changed (target ≤ 3×) — and peak memory against the bare
  load and save (target ≤ 1×), twice: what Python allocated (tracemalloc, in this process) and
  the peak resident memory of a fresh process doing each (native libraries included);
- growth (``--only growth``): the same three jobs at 10× the tickets and projects (200,000
  tickets by default) against the default size: time and floor grow about tenfold, so the ratio
  of the two growths (target ≤ 1.25, i.e. no worse than linear) and the job-to-floor ratio at the
  large size (target ≤ 3×); no openpyxl baseline at that size (its load alone takes minutes);
- com: COM round trips of refresh (a typed-in ledger the first time, then the next morning) and
  plan (first, then again over its own sheet) in Excel, counted with the recording fake of Excel's
  COM objects beneath the real xlwings Windows code (:mod:`pyfuncs.comfake`), against the book
  of before (xlwings' Range wrappers; target: refresh ≤ 1,000, plan ≤ 2,000, not growing with rows).
- rollup: ``aftercare rollup`` over N workbooks (``--rollup-workbooks``, each ``--rollup-tickets``
  tickets; the README's figure: 100 × 20,000) against a tenth of them: time, and peak memory that
  must not grow with the number of workbooks.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

PARTS_MONTHS = {"屋面防水": 60, "防渗漏": 60, "电气管线": 24, "给排水管道": 24, "设备安装": 24, "装修工程": 24, "其他": 24}


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _peak(fn: Callable[[], object]) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    t = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak


def _child_peak_rss(code: str) -> int | None:
    """Peak resident memory, in bytes, of a fresh Python process running ``code``: native
    allocations (python-calamine, zlib) and imports included, which tracemalloc does not see.
    None where the platform does not report it."""
    import subprocess
    import sys

    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across exec
    probe = code + (
        "\nimport resource, sys\nkib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"
        "\ntry:\n    kib = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))"
        "\nexcept (OSError, StopIteration):\n    pass\nprint('RSS', kib)")
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        if line.startswith("RSS "):
            kib = int(line.split()[1])
            return kib if sys.platform == "darwin" else kib * 1024  # macOS reports bytes
    return None


def core_inputs(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    starts = np.datetime64("2005-01-01") + rng.integers(0, 7000, n).astype("timedelta64[D]")
    names = np.array(list(PARTS_MONTHS), dtype=object)
    parts = names[rng.integers(0, len(names), n)]
    notices = np.datetime64("2015-01-01") + rng.integers(0, 4000, n).astype("timedelta64[D]")
    urg = np.array(["一般", "一般", "一般", "紧急", "涉及结构安全"], dtype=object)[rng.integers(0, 5, n)]
    arrivals = notices + rng.integers(0, 15, n).astype("timedelta64[D]")
    arrivals[rng.random(n) < 0.2] = np.datetime64("NaT")
    return starts, parts, notices, urg, arrivals


def bench_core(n: int) -> list[tuple]:
    from dateutil.relativedelta import relativedelta

    from pyfuncs.core.calendar import WorkCalendar
    from pyfuncs.core.clock import default_calendar, overdue_days, repair_due
    from pyfuncs.core.warranty import warranty_ends

    starts, parts, notices, urg, arrivals = core_inputs(n)
    today = np.datetime64("2026-11-21")
    cal = default_calendar()
    months = np.array([PARTS_MONTHS[p] for p in parts])

    def ours():
        warranty_ends(starts, parts)
        due, _ = repair_due(notices, urg, calendar=cal)
        overdue_days(due, arrivals, today)

    def bare_numpy():
        # the raw date arithmetic with no rules: EDATE-style month add, +7 days, a subtraction
        m = starts.astype("datetime64[M]")
        day = (starts - m.astype("datetime64[D]")).astype(np.int64)
        target = m + months.astype("timedelta64[M]")
        first = target.astype("datetime64[D]")
        last = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64) - 1
        first + np.minimum(day, last).astype("timedelta64[D]")
        due = notices + np.timedelta64(7, "D")
        np.maximum((np.where(np.isnat(arrivals), today, arrivals) - due).astype(np.int64), 0)

    work = WorkCalendar()
    rest = {d.astype(dt.date) for d in np.arange(np.datetime64("2014-01-01"), np.datetime64("2028-01-01"))
            if not work.is_workday_one(d.astype(dt.date))}
    py_starts = starts.astype(dt.date).tolist()
    py_notices = notices.astype(dt.date).tolist()
    py_arr = [None if np.isnat(a) else a.astype(dt.date) for a in arrivals]
    py_parts = parts.tolist()
    py_urg = urg.tolist()
    today_py = dt.date(2026, 11, 21)

    def per_row():
        for s, p, nt, u, a in zip(py_starts, py_parts, py_notices, py_urg, py_arr):
            s + relativedelta(months=PARTS_MONTHS[p])
            due = nt + relativedelta(days=7 if u == "一般" else 1)
            if u == "一般":
                while due in rest:
                    due += relativedelta(days=1)
            max(((a or today_py) - due).days, 0)

    ours()  # warm-up: builds the calendar once
    t_ours = _best(ours)
    t_np = _best(bare_numpy)
    t_loop = _best(per_row, repeat=1)
    return [
        (f"核心计算 {n:,} 行：本实现 vs 逐行 relativedelta", t_ours, t_loop, t_loop / t_ours, "≥ 20× 快"),
        (f"核心计算 {n:,} 行：本实现 vs 纯 numpy 月份运算", t_ours, t_np, t_ours / t_np, "≤ 3× 慢"),
    ]


def bench_udfs(n: int) -> list[tuple]:
    from pyfuncs import udfs
    from pyfuncs.core.dates import to_serial

    rng = np.random.default_rng(2)
    serials = [[float(to_serial(dt.date(2015, 1, 1)) + x)] for x in rng.integers(0, 4000, n)]
    parts = [[p] for p in np.array(list(PARTS_MONTHS), dtype=object)[rng.integers(0, 7, n)]]
    calls = {
        "AC_WARRANTY_END": lambda: udfs.AC_WARRANTY_END(serials, parts),
        "AC_WARRANTY_STATUS": lambda: udfs.AC_WARRANTY_STATUS(serials, "2026-11-21"),
        "AC_REPAIR_DUE": lambda: udfs.AC_REPAIR_DUE(serials),
        "AC_OVERDUE_DAYS": lambda: udfs.AC_OVERDUE_DAYS(serials, None, "2026-11-21"),
        "AC_NEXT_WORKDAY": lambda: udfs.AC_NEXT_WORKDAY(serials),
        "AC_IS_WORKDAY": lambda: udfs.AC_IS_WORKDAY(serials),
    }
    rows = []
    for name, call in calls.items():
        call()
        t = _best(call)
        rows.append((f"{name} 一次 {n:,} 行区域（每行微秒）", t * 1e6 / n, 2.0, t * 1e6 / n / 2.0, "≤ 2 µs/行"))
    return rows


def ledger_for_plan(n: int):
    """``n`` projects of the demo company and their warranty rows as the plan job hands them to
    :func:`pyfuncs.core.callbacks.plan_visits` (contract terms, separate acceptances, notes; the
    statutory rows for projects without 保修条款)."""
    import pandas as pd

    from pyfuncs.core.callbacks import project_parts
    from pyfuncs.core.warranty import warranty_ends
    from pyfuncs.demo import sample_data

    data = sample_data(dt.date(2026, 11, 21), seed=7, n_projects=n, n_tickets=0, n_visits=0)
    projects = data["projects"].assign(accepted=lambda f: pd.to_datetime(f["accepted"]))
    terms = data["terms"]
    by_id = projects.set_index("project_id")
    start = pd.to_datetime(terms["start"]).fillna(terms["project_id"].map(by_id["accepted"]))
    r = warranty_ends(start.to_numpy().astype("datetime64[D]"), list(terms["part"]), list(terms["term"]),
                      list(terms["project_id"].map(by_id["city"])), list(terms["project_id"].map(by_id["design_life"])),
                      fallback=True)
    parts = pd.DataFrame({"project_id": terms["project_id"], "part": terms["part"], "start": start,
                          "end": r.ends, "note": r.data_notes})
    without = projects[~projects["project_id"].isin(terms["project_id"])]
    return projects, pd.concat([parts, project_parts(without)], ignore_index=True)


def bench_callbacks(n: int) -> list[tuple]:
    """AC_CALLBACKS once per project for ``n`` different projects: ms per call, against the same
    projects through :func:`pyfuncs.core.callbacks.plan_visits` one at a time (a one-row ledger
    each: what a worksheet function built on the ledger call would cost); and plan_visits over
    ``n`` projects of the demo company with their 保修条款 rows (the plan job's core), µs per project."""
    import pandas as pd

    from pyfuncs import udfs
    from pyfuncs.core import callbacks
    from pyfuncs.core.clock import default_calendar

    rng = np.random.default_rng(3)
    starts = [dt.date(2015, 1, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 4000, n)]
    sizes = np.array(["大型", "中型", "小型"], dtype=object)[rng.integers(0, 3, n)]
    cities = np.array(["北京", "太原", "哈尔滨", "广州", None], dtype=object)[rng.integers(0, 5, n)]
    news = np.array(["装配式混凝土结构", "否", "是", None], dtype=object)[rng.integers(0, 4, n)]
    args = list(zip(starts, sizes, cities, news))
    cal = default_calendar()
    udfs.AC_CALLBACKS(starts[0], None, "中型", 2026)  # imports and the year's working-day table

    def ours():
        for start, size, city, new in args:
            udfs.AC_CALLBACKS(start, None, size, 2026, new, city)

    def one_row_ledgers():
        for start, size, city, new in args[: max(1, n // 10)]:  # several ms each: a tenth is plenty
            projects = pd.DataFrame({"project_id": ["P"], "accepted": [pd.Timestamp(start)], "size": [size],
                                     "four_new": [new], "city": [city]})
            callbacks.plan_visits(projects, callbacks.project_parts(projects), 2026, calendar=cal)

    projects, parts = ledger_for_plan(n)
    t_ours = _best(ours) * 1e3 / n
    t_base = _best(one_row_ledgers, repeat=1) * 1e3 / max(1, n // 10)
    t_plan = _best(lambda: callbacks.plan_visits(projects, parts, 2026, calendar=cal))
    return [
        (f"AC_CALLBACKS {n:,} 个项目各一次（每次毫秒）", t_ours, 1.0, t_ours / 1.0, "≤ 1 ms/次"),
        ("AC_CALLBACKS：本实现 vs 单行台账调用 plan_visits 算单个项目（每次毫秒）", t_ours, t_base, t_base / t_ours, "快"),
        (f"plan_visits：{n:,} 个项目、保修条款 {len(parts):,} 行（每个项目微秒；共 {t_plan:.3f} 秒）",
         t_plan * 1e6 / n, 500.0, t_plan * 1e6 / n / 500.0, "远低于 500 µs（2,000 个项目 1 秒）"),
    ]


def make_workbook(path: Path, n_projects: int, n_tickets: int, today: dt.date) -> None:
    from pyfuncs.build import build_workbook
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    build_workbook(path)
    data = sample_data(today, seed=7, n_projects=n_projects, n_tickets=n_tickets, n_visits=n_projects)
    with FileBook.open(path, lock=False) as book:
        fill(book, data)
        book.save()


def _floor(work: Path, changed: dict[str, bytes], out: Path) -> None:
    """What any job on the file must at least do: python-calamine reading every sheet, and a zip
    copy of the package in which the members the job changed are deflated anew."""
    from python_calamine import CalamineWorkbook

    from pyfuncs.io.package import write_package

    wb = CalamineWorkbook.from_path(str(work))
    try:
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        wb.close()
    write_package(work, changed, out)


def _changed_members(before: Path, after: Path) -> dict[str, bytes | None]:
    import zipfile

    with zipfile.ZipFile(before) as zb, zipfile.ZipFile(after) as za:
        old = {n: zb.read(n) for n in zb.namelist()}
        new = {n: za.read(n) for n in za.namelist()}
    out: dict[str, bytes | None] = {n: v for n, v in new.items() if old.get(n) != v}
    out.update({n: None for n in old if n not in new})
    return out


JOB_TODAY = dt.date(2026, 11, 21)


def _job_cases(d: Path, n_projects: int, n_tickets: int):
    """The three cases on a workbook made in ``d``: (label, workbook to start from, job, options)."""
    from pyfuncs.cli import run_job_on_file
    from pyfuncs.jobs import JobOptions

    today = JOB_TODAY
    typed = d / "typed.xlsm"
    make_workbook(typed, n_projects, n_tickets, today)
    # the daily case: a ledger whose plan and computed columns exist
    src = d / "bench.xlsm"
    shutil.copy(typed, src)
    run_job_on_file("plan", src, JobOptions(today=today, year=2027))
    run_job_on_file("refresh", src, JobOptions(today=today))
    next_day = today + dt.timedelta(days=1)
    return (("refresh 次日", src, "refresh", JobOptions(today=next_day)),
            ("refresh 新录入台账", typed, "refresh", JobOptions(today=today)),
            ("plan 再次", src, "plan", JobOptions(today=today, year=2027)))


def _fresh(d: Path, work: Path, origin: Path, fn: Callable[[], object]) -> Callable[[], float]:
    """A timed run of ``fn`` on a fresh copy of ``origin`` at ``work`` (backups of earlier runs gone)."""
    def run():
        shutil.copy(origin, work)
        for p in Path(d).glob(".aftercare-backup*"):
            shutil.rmtree(p, ignore_errors=True)
        gc.collect()
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t
    return run


def _job_and_floor(d: Path, origin: Path, job: str, opts, repeat: int) -> tuple[float, float]:
    """Best times of the job on a copy of ``origin`` and of the floor (:func:`_floor`) for it."""
    from pyfuncs.cli import run_job_on_file

    work, floor_out = d / "work.xlsm", d / "floor.xlsm"
    shutil.copy(origin, work)
    run_job_on_file(job, work, opts)
    changed = _changed_members(origin, work)
    do_job = _fresh(d, work, origin, lambda: run_job_on_file(job, work, opts))
    do_floor = _fresh(d, work, origin, lambda: _floor(work, changed, floor_out))
    runs = [(do_job(), do_floor()) for _ in range(repeat)]
    return min(j for j, _ in runs), min(f for _, f in runs)


def bench_jobs(n_projects: int, n_tickets: int, repeat: int = 3) -> list[tuple]:
    """Each job end to end on the file (open, lock, job, safe save with backup), against a bare
    openpyxl load and save of the same file with the options that lose nothing (the VBA project,
    external links, rich text in cells) — what every job paid before the file writer — and against
    the floor (:func:`_floor`: calamine reading every sheet plus a zip copy re-deflating only the
    members the job changed). Three cases: refresh the next morning (the daily case), refresh of a
    ledger typed in without computed values (the first run writes every computed cell), plan the
    next year again. Times are the best of ``repeat`` runs, taken in turn so that a slow spell on
    a shared machine hits all; memory is the tracemalloc peak of one more run of each."""
    import openpyxl

    from pyfuncs.cli import run_job_on_file

    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        work = d / "work.xlsm"

        def bare():
            wb = openpyxl.load_workbook(work, keep_vba=True, keep_links=True, rich_text=True)
            wb.save(work)

        for label0, origin, job, opts in _job_cases(d, n_projects, n_tickets):
            t_job, t_floor = _job_and_floor(d, origin, job, opts, repeat)
            t_bare = min(_fresh(d, work, origin, bare)() for _ in range(repeat))
            shutil.copy(origin, work)
            _, m_bare = _peak(bare)
            shutil.copy(origin, work)
            _, m_job = _peak(lambda: run_job_on_file(job, work, opts))
            shutil.copy(origin, work)
            r_bare = _child_peak_rss(
                "import openpyxl\n"
                f"wb = openpyxl.load_workbook({str(work)!r}, keep_vba=True, keep_links=True, rich_text=True)\n"
                f"wb.save({str(work)!r})")
            shutil.copy(origin, work)
            r_job = _child_peak_rss(
                "import datetime\nfrom pathlib import Path\nfrom pyfuncs.cli import run_job_on_file\n"
                "from pyfuncs.jobs import JobOptions\n"
                f"run_job_on_file({job!r}, Path({str(work)!r}), JobOptions(today=datetime.date.fromisoformat("
                f"{opts.today.isoformat()!r}), year={opts.year!r}))")
            label = f"{label0}（{n_projects:,} 个项目、{n_tickets:,} 张报修单）"
            rows.append((f"{label}：耗时 vs openpyxl 裸读写", t_job, t_bare, t_job / t_bare, "≤ 0.25×"))
            rows.append((f"{label}：耗时 vs 下限（calamine 读全部工作表 + 只重压缩改动部件）", t_job, t_floor,
                         t_job / t_floor, "≤ 3×"))
            rows.append((f"{label}：峰值内存（Python 分配）MiB vs 裸读写", m_job / 2**20, m_bare / 2**20,
                         m_job / m_bare, "≤ 1×"))
            if r_job and r_bare:
                rows.append((f"{label}：进程常驻内存峰值（含原生库）MiB vs 裸读写", r_job / 2**20, r_bare / 2**20,
                             r_job / r_bare, "≤ 1×"))
    return rows


def bench_growth(n_projects: int, n_tickets: int, factor: int = 10, repeat: int = 2) -> list[tuple]:
    """The three job cases at ``factor`` × the projects and tickets against the given size: how
    the job's time grew against how the floor's grew (about ``factor`` each when both are
    linear; target ≤ 1.25), and the job against the floor at the large size (target ≤ 3×)."""
    rows = []
    times: dict[str, list[tuple[float, float]]] = {}
    labels: list[str] = []
    for k in (1, factor):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            for label0, origin, job, opts in _job_cases(d, n_projects * k, n_tickets * k):
                if label0 not in times:
                    labels.append(label0)
                times.setdefault(label0, []).append(_job_and_floor(d, origin, job, opts, repeat))
    big = f"{n_projects * factor:,} 个项目、{n_tickets * factor:,} 张报修单"
    for label0 in labels:
        (j1, f1), (jk, fk) = times[label0]
        rows.append((f"{label0}：{big} vs {n_tickets:,} 张的耗时增长（作业增长 ÷ 下限增长 {fk / f1:.1f} 倍）",
                     jk, j1, (jk / j1) / (fk / f1), "≤ 1.25"))
        rows.append((f"{label0}（{big}）：耗时 vs 下限", jk, fk, jk / fk, "≤ 3×"))
    return rows


def bench_todo(n_projects: int, n_tickets: int, repeat: int = 3) -> list[tuple]:
    """本周待办 on a ledger of ``n_tickets`` tickets with this year's plan and computed columns:
    building the 待办 sheet from the read tables (every ``todo_items_*`` topic, the one sorted
    list, the Layout; target under a second at 20,000 tickets) against reading those tables from the
    file (what every job pays first); and the whole job on the file (open, read, build, write the
    sheet, safe save) against a bare openpyxl load and save."""
    import openpyxl

    from pyfuncs.cli import run_job_on_file
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import JobOptions
    from pyfuncs.jobs import todo

    today = dt.date(2026, 11, 21)
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "todo.xlsm"
        make_workbook(src, n_projects, n_tickets, today)
        run_job_on_file("plan", src, JobOptions(today=today, year=today.year))
        run_job_on_file("refresh", src, JobOptions(today=today))
        with FileBook.open(src, lock=False) as book:
            t = time.perf_counter()
            data, _ = todo.load(book, today)
            t_read = time.perf_counter() - t

        def build():
            items = todo.gather(data)
            return todo.todo_layout(items, today, data.days)

        t_build = _best(build, repeat)
        work = Path(d) / "work.xlsm"

        def job():
            shutil.copy(src, work)
            t = time.perf_counter()
            run_job_on_file("todo", work, JobOptions(today=today))
            return time.perf_counter() - t

        def bare():
            shutil.copy(src, work)
            t = time.perf_counter()
            wb = openpyxl.load_workbook(work, keep_vba=True, keep_links=True, rich_text=True)
            wb.save(work)
            return time.perf_counter() - t

        t_job = min(job() for _ in range(max(1, repeat - 1)))
        t_bare = min(bare() for _ in range(max(1, repeat - 1)))
    label = f"todo（{n_projects:,} 个项目、{n_tickets:,} 张报修单）"
    return [
        (f"{label}：由已读入的表生成待办表 vs 读入这些表", t_build, t_read, t_build / t_read, "< 1 秒"),
        (f"{label}：整个作业（含写入工作表和保存）vs openpyxl 裸读写", t_job, t_bare, t_job / t_bare, "—（写入由文件写入层决定）"),
    ]


# ---- COM round trips of the jobs in Excel ----------------------------------------------------------
class _LegacyXlBook:
    """The ribbon's book as it was before issue 10, kept here only as the benchmark's baseline:
    everything through xlwings' Range wrappers (``sheet.range(...).value = block``, about 118 COM
    round trips each), scattered cells written run by run, merged areas found cell by cell,
    generated sheets styled in unions cut at 240 characters and sized row by row."""

    @staticmethod
    def make(xw_book):
        import datetime as _dt

        from pyfuncs.io.book import Book, parse_ref, to_cell
        from pyfuncs.io.xlbook import XlBook

        def excel(v):
            v = to_cell(v)
            if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "'") and len(v) > 1:
                return "'" + v
            if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
                return _dt.datetime(v.year, v.month, v.day)
            return v

        class Legacy(XlBook):
            write_cells = Book.write_cells

            def sheet_names(self):
                return [s.name for s in self.xb.sheets]

            def has_sheet(self, name):
                return name in self.sheet_names()

            def _sh(self, sheet):
                return self.xb.sheets[sheet]

            def extent(self, sheet):
                sh = self._sh(sheet)
                last = sh.used_range.last_cell
                if last.row == 1 and last.column == 1 and sh.range("A1").value is None:
                    return (0, 0)
                return (last.row, last.column)

            def read(self, sheet, ref):
                t, l, b, r = ref
                if b < t or r < l:
                    return []
                vals = self._sh(sheet).range((t, l), (b, r)).options(ndim=2, empty=None).value
                return [[v.date() if isinstance(v, _dt.datetime) and v.time() == _dt.time() else
                         (int(v) if isinstance(v, float) and v.is_integer() else v) for v in row] for row in vals]

            def table_ref(self, sheet, name):
                for t in self._sh(sheet).tables:
                    if t.name.lower() == name.lower():
                        return parse_ref(t.range.address)
                return None

            def merged(self, sheet):
                sh = self._sh(sheet)
                last_row, last_col = self.extent(sheet)
                out, stack = set(), [(1, 1, last_row, last_col)] if last_row else []
                while stack:
                    t, l, b, r = stack.pop()
                    flag = sh.range((t, l), (b, r)).api.MergeCells
                    if flag is False:
                        continue
                    if t == b and l == r:
                        a = sh.range((t, l)).merge_area
                        out.add((a.row, a.column, a.last_cell.row, a.last_cell.column))
                        continue
                    if b - t >= r - l:
                        m = (t + b) // 2
                        stack += [(t, l, m, r), (m + 1, l, b, r)]
                    else:
                        m = (l + r) // 2
                        stack += [(t, l, b, m), (t, m + 1, b, r)]
                return sorted(out)

            def write(self, sheet, top, left, rows, number_formats=None):
                if not rows:
                    return
                sh = self._sh(sheet)
                width = max(len(r) for r in rows)
                block = [[excel(v) for v in r] + [None] * (width - len(r)) for r in rows]
                sh.range((top, left), (top + len(block) - 1, left + width - 1)).value = block
                for j, fmt in enumerate(number_formats or []):
                    if fmt:
                        sh.range((top, left + j), (top + len(block) - 1, left + j)).number_format = fmt

            def resize_table(self, sheet, name, ref):
                sh = self._sh(sheet)
                for t in sh.tables:
                    if t.name.lower() == name.lower():
                        t.resize(sh.range((ref[0], ref[1]), (ref[2], ref[3])))

            def set_status(self, text):
                self.xb.app.status_bar = text if text else False

            def put_sheet(self, lay, *, after=None):
                _legacy_render(self.xb, lay, after)

        return Legacy(xw_book)


def _legacy_render(xw_book, lay, after) -> None:
    """The old render_xlwings, for the baseline: values in one block, one union per 240 characters
    of each style's cells with every attribute set, merges one by one, one call per width and per
    row height, outline per run, page setup property by property."""
    from pyfuncs.io.book import col_letter
    from pyfuncs.layout import STYLES

    sheets = xw_book.sheets
    names = [s.name for s in sheets]
    if lay.name in names:
        ws = sheets[lay.name]
        ws.clear()
    else:
        ws = sheets.add(lay.name, after=sheets[names.index(after) if after in names else len(names) - 1])
    grid = [[None] * lay.max_col for _ in range(lay.max_row)]
    for (r, c), (v, _st) in lay.cells.items():
        grid[r - 1][c - 1] = v
    ws.range((1, 1), (lay.max_row, lay.max_col)).value = grid
    by_style: dict[str, list[str]] = {}
    for (r, c), (_v, st) in lay.cells.items():
        by_style.setdefault(st, []).append(f"{col_letter(c)}{r}")
    for st, addrs in by_style.items():
        s = STYLES.get(st, {})
        chunk: list[str] = []
        for a in addrs + [None]:
            if a is not None and sum(len(x) + 1 for x in chunk) + len(a) <= 240:
                chunk.append(a)
                continue
            rng = ws.api.Range(",".join(chunk))
            rng.Font.Size = s.get("size", 11)
            rng.Font.Bold = s.get("bold", False)
            rng.Font.Italic = s.get("italic", False)
            rng.HorizontalAlignment = 1
            rng.VerticalAlignment = -4108
            rng.WrapText = bool(s.get("wrap"))
            if s.get("fill"):
                rng.Interior.Color = 0xF2F2F2
            if s.get("border"):
                rng.Borders.LineStyle = 1
            if s.get("format"):
                rng.NumberFormat = s["format"]
            chunk = [a] if a is not None else []
    for r1, c1, r2, c2 in lay.merges:
        ws.api.Range(f"{col_letter(c1)}{r1}:{col_letter(c2)}{r2}").Merge()
    for c, w in lay.widths.items():
        ws.range((1, c)).column_width = w
    for r, h in lay.heights.items():
        ws.range((r, 1)).row_height = h
    rows = sorted(r for r, lv in lay.outline.items() if lv >= 1)
    start = prev = rows[0] if rows else None
    for r in rows[1:] + [None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        ws.api.Rows(f"{start}:{prev}").Group()
        start = prev = r
    ps = ws.api.PageSetup
    ps.PaperSize, ps.Orientation, ps.Zoom, ps.FitToPagesWide, ps.FitToPagesTall = 9, 2, False, 1, False
    ps.LeftMargin, ps.RightMargin, ps.TopMargin, ps.BottomMargin = 36, 36, 43, 43
    ps.CenterHorizontally = True
    ps.PrintTitleRows = "$" + lay.print_title_rows.replace(":", ":$") if lay.print_title_rows else ""
    ps.CenterFooter = lay.footer or ""


def com_round_trips(path: Path, book_of: Callable, today: dt.date, busy: bool = True) -> dict[str, int]:
    """COM round trips of the ribbon's jobs on ``path`` loaded into the recording fake of Excel
    (:mod:`pyfuncs.comfake`), beneath the real xlwings Windows code: refresh of the typed-in ledger
    (the first time), refresh the next morning, plan, and plan again (which reads the plan).
    ``busy``: with Excel's screen updating, events and calculation off, as the ribbon runs them."""
    import contextlib
    import importlib

    from pyfuncs import comfake
    from pyfuncs.jobs import JobOptions

    app = comfake.Application()
    wb = app.open(path)
    out = {}
    for label, job, opts in (("first", "refresh", JobOptions(today=today)),
                             ("morning", "refresh", JobOptions(today=today + dt.timedelta(days=1))),
                             ("plan", "plan", JobOptions(today=today, year=today.year + 1)),
                             ("plan again", "plan", JobOptions(today=today, year=today.year + 1))):
        book = book_of(comfake.xlwings_book(wb))
        app.rec.reset()
        with book.busy() if busy else contextlib.nullcontext():
            importlib.import_module(f"pyfuncs.jobs.{job}").run(book, opts)
        out[label] = app.rec.calls
    return out


def bench_com(n_projects: int, n_tickets: int, baseline: bool = True) -> list[tuple]:
    """COM round trips in Excel (counted, not timed) against the xlwings-Range book of before."""
    from pyfuncs.io.xlbook import XlBook

    today = dt.date(2026, 11, 21)
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "com.xlsm"
        make_workbook(src, n_projects, n_tickets, today)
        ours = com_round_trips(src, XlBook, today)
        base = com_round_trips(src, _LegacyXlBook.make, today, busy=False) if baseline else {}
    size = f"{n_projects:,} 个项目、{n_tickets:,} 张报修单"
    rows = []
    for key, label, target in (("first", "refresh 首次（新录入的台账）", "≤ 1,000"),
                               ("morning", "refresh 次日早晨", "≤ 1,000"),
                               ("plan", "plan", "≤ 2,000"), ("plan again", "plan 再次（读取已有计划表）", "≤ 2,000")):
        b = base.get(key, float("nan"))
        rows.append((f"Excel 中 {label}（{size}）：COM 往返次数", ours[key], b, ours[key] / b, target))
    return rows


def com_table(rows: list[tuple]) -> str:
    out = ["| 项目 | 本实现 | 旧实现（xlwings Range） | 比值 | 目标 |", "|---|---:|---:|---:|---|"]
    for label, ours, base, ratio, target in rows:
        out.append(f"| {label} | {ours:,} | {base:,.0f} | {ratio:.4f} | {target} |")
    return "\n".join(out)


def rollup_folder(folder: Path, n_workbooks: int, n_tickets: int, today: dt.date, distinct: int = 2) -> None:
    """``n_workbooks`` aftercare workbooks of ``n_tickets`` each in region subfolders of ``folder``:
    ``distinct`` generated ones (pyfuncs.demo, different seeds), copied round-robin under other
    names. Already-made files are kept (the 10- and the 100-workbook runs share them)."""
    from pyfuncs.build import build_workbook
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    folder.mkdir(parents=True, exist_ok=True)
    bases = []
    for k in range(min(distinct, n_workbooks)):
        base = folder.parent / f"rollup-base-{n_tickets}-{k}.xlsm"
        if not base.exists():
            build_workbook(base)
            data = sample_data(today, seed=100 + k, n_projects=max(10, n_tickets // 10), n_tickets=n_tickets,
                               n_visits=max(10, n_tickets // 10))
            with FileBook.open(base, lock=False) as book:
                fill(book, data)
                book.save()
        bases.append(base)
    for i in range(n_workbooks):
        target = folder / f"区域{i % 10 + 1:02d}" / f"分公司{i + 1:03d}.xlsm"
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            shutil.copy(bases[i % len(bases)], target)


def bench_rollup(n_workbooks: int, n_tickets: int, small: int | None = None) -> list[tuple]:
    """``aftercare rollup`` over ``n_workbooks`` workbooks of ``n_tickets`` tickets each, against
    the same over ``small`` of them (default a tenth): time and peak memory, to show the time
    grows with the number of workbooks and the memory does not. Time (wall clock, and the
    process's CPU time, which other work on a shared machine does not inflate) and the peak
    resident memory come from one fresh process per size; the Python allocation peak (tracemalloc) from
    one more run in this process. Each measured run follows a warm-up roll-up of one workbook
    (imports, the holiday calendar), so neither size pays for them."""
    from pyfuncs.rollup import rollup

    today = dt.date(2026, 11, 21)
    small = small or max(1, n_workbooks // 10)
    distinct = 1 if n_workbooks < 10 else 2
    figures = {}
    with tempfile.TemporaryDirectory() as d:
        warm = Path(d) / "warm-up"
        rollup_folder(warm, 1, n_tickets, today, distinct)
        warm_out = Path(d) / "warm-up.xlsx"
        rollup(warm, warm_out, today=today)
        for n in (small, n_workbooks):
            folder = Path(d) / f"folder-{n}"
            rollup_folder(folder, n, n_tickets, today, distinct)
            out = Path(d) / f"汇总-{n}.xlsx"
            clock = Path(d) / f"seconds-{n}.txt"
            day = f"datetime.date({today.year}, {today.month}, {today.day})"
            rss = _child_peak_rss(
                "import datetime, time\nfrom pyfuncs.rollup import rollup\n"
                f"rollup({str(warm)!r}, {str(warm_out)!r}, today={day})\nt, c = time.perf_counter(), time.process_time()\n"
                f"rollup({str(folder)!r}, {str(out)!r}, today={day})\n"
                f"open({str(clock)!r}, 'w').write(f'{{time.perf_counter() - t}} {{time.process_time() - c}}')")
            if clock.exists():
                seconds, cpu = map(float, clock.read_text().split())
            else:  # no child process here: time it in this one
                cpu = time.process_time()
                seconds = _best(lambda: rollup(folder, out, today=today), repeat=1)
                cpu = time.process_time() - cpu
            _, peak = _peak(lambda: rollup(folder, out, today=today))
            figures[n] = (seconds, cpu, peak, rss)
    (t_s, c_s, m_s, r_s), (t_b, c_b, m_b, r_b) = figures[small], figures[n_workbooks]
    label = f"rollup {n_workbooks:,} vs {small:,} 个工作簿（每个 {n_tickets:,} 张报修单）"
    rows = [
        (f"{label}：耗时（秒）", t_b, t_s, t_b / t_s, f"几分钟内；约 {n_workbooks / small:g}×（随工作簿数线性）"),
        (f"{label}：进程 CPU 时间（秒）", c_b, c_s, c_b / c_s, f"约 {n_workbooks / small:g}×（不受机器上其他任务影响）"),
        (f"{label}：每个工作簿耗时（秒）", t_b / n_workbooks, t_s / small, (t_b / n_workbooks) / (t_s / small), "≈ 1×"),
        (f"{label}：峰值内存（Python 分配）MiB", m_b / 2**20, m_s / 2**20, m_b / m_s, "≈ 1×（不随工作簿数增长）"),
    ]
    if r_b and r_s:
        rows.append((f"{label}：进程常驻内存峰值（含原生库）MiB", r_b / 2**20, r_s / 2**20, r_b / r_s,
                     "≈ 1×（不随工作簿数增长）"))
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}，{os.cpu_count()} 核，Python {platform.python_version()}，{platform.system()}"


def table(rows: list[tuple]) -> str:
    out = ["| 项目 | 本实现 | 基线 | 比值 | 目标 |", "|---|---:|---:|---:|---|"]
    for label, ours, base, ratio, target in rows:
        out.append(f"| {label} | {ours:.3f} | {base:.3f} | {ratio:.2f} | {target} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyfuncs.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for the core figures")
    ap.add_argument("--udf-rows", type=int, default=100_000)
    ap.add_argument("--projects", type=int, default=2000)
    ap.add_argument("--tickets", type=int, default=20000)
    ap.add_argument("--rollup-workbooks", type=int, default=2,
                    help="workbooks for the rollup figure (the README's: 100), compared with a tenth of them")
    ap.add_argument("--rollup-tickets", type=int, default=50, help="tickets per rollup workbook (the README's: 20000)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    ap.add_argument("--callbacks", type=int, default=2000, help="projects for the AC_CALLBACKS figure")
    ap.add_argument("--growth-factor", type=int, default=10,
                    help="growth: how many times the projects and tickets of --projects/--tickets")
    ap.add_argument("--only", choices=["core", "udfs", "callbacks", "jobs", "growth", "todo", "rollup", "com"],
                    action="append", help="growth is not part of the default run (it makes a 200,000-ticket workbook)")
    a = ap.parse_args(argv)
    if a.quick:
        a.rows, a.udf_rows, a.projects, a.tickets, a.callbacks = 2000, 2000, 20, 200, 20
        a.rollup_workbooks, a.rollup_tickets = 2, 30
    only = set(a.only or ["core", "udfs", "callbacks", "jobs", "todo", "rollup", "com"])
    rows: list[tuple] = []
    if "core" in only:
        rows += bench_core(a.rows)
    if "udfs" in only:
        rows += bench_udfs(a.udf_rows)
    if "callbacks" in only:
        rows += bench_callbacks(a.callbacks)
    if "jobs" in only:
        rows += bench_jobs(a.projects, a.tickets)
    if "growth" in only:
        rows += bench_growth(a.projects, a.tickets, a.growth_factor, repeat=1 if a.quick else 2)
    if "todo" in only:
        rows += bench_todo(a.projects, a.tickets)
    if "rollup" in only:
        rows += bench_rollup(a.rollup_workbooks, a.rollup_tickets)
    print(f"机器：{machine()}；时间单位：秒（内存：MiB；UDF：微秒/行；AC_CALLBACKS：毫秒/次）")
    print(table(rows))
    if "com" in only:
        print("\nExcel 中的作业：COM 往返次数（计数，不计时；Excel 冻结的时间与之成正比）")
        print(com_table(bench_com(a.projects, a.tickets)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
