"""Speed and memory against baselines measured in the same run: ``python -m pyfuncs.bench``.

Prints, for each figure, our time, the baseline's time and the ratio, with the issue's target.
Nothing here is asserted by the test suite (timings vary by machine); the suite only runs a tiny
``--quick`` pass to prove the script works.

Figures:

- core: warranty ends + repair deadlines + overdue days over N rows (default 1,000,000)
  vs a per-row ``dateutil.relativedelta`` loop (target ≥ 20× faster) and vs bare numpy month
  arithmetic (target within 3×);
- udfs: every worksheet function on a 100,000-row range, µs per row (target ≤ 2 µs);
- refresh (the next morning) / plan (again) on a workbook of 2,000 projects and 20,000 tickets
  that has been planned and refreshed once (the daily case), end to end on the file, vs a bare openpyxl load and save of the
  same file (target ≤ 1.3×), and peak memory (target ≤ 4× the bare load and save), twice: what
  Python allocated (tracemalloc, in this process) and the peak resident memory of a fresh process
  doing each (native libraries such as python-calamine and the imports included);
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


def make_workbook(path: Path, n_projects: int, n_tickets: int, today: dt.date) -> None:
    from pyfuncs.build import build_workbook
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    build_workbook(path)
    data = sample_data(today, seed=7, n_projects=n_projects, n_tickets=n_tickets, n_visits=n_projects)
    with FileBook.open(path, lock=False) as book:
        fill(book, data)
        book.save()


def bench_jobs(n_projects: int, n_tickets: int, repeat: int = 3) -> list[tuple]:
    """Each job end to end on the file (open, lock, job, safe save with backup), against a bare
    openpyxl load and save of the same file with the options that lose nothing (the VBA project,
    external links, rich text in cells): what any lossless job must at least pay. Times are the
    best of ``repeat`` runs, the job's and the baseline's taken in turn so that a slow spell on a
    shared machine hits both; memory is the tracemalloc peak of one more run of each."""
    import openpyxl

    from pyfuncs.cli import run_job_on_file
    from pyfuncs.jobs import JobOptions

    today = dt.date(2026, 11, 21)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "bench.xlsm"
        make_workbook(src, n_projects, n_tickets, today)
        # the daily case: a ledger whose plan and computed columns exist (a first run on a freshly
        # typed ledger also writes tens of thousands of new cells, which a bare save does not)
        run_job_on_file("plan", src, JobOptions(today=today, year=2027))
        run_job_on_file("refresh", src, JobOptions(today=today))
        work = Path(d) / "work.xlsm"

        def bare():
            wb = openpyxl.load_workbook(work, keep_vba=True, keep_links=True, rich_text=True)
            wb.save(work)

        def fresh(fn):
            def run():
                shutil.copy(src, work)
                for p in Path(d).glob(".aftercare-backup*"):
                    shutil.rmtree(p, ignore_errors=True)
                gc.collect()
                t = time.perf_counter()
                fn()
                return time.perf_counter() - t
            return run

        # refresh the next morning (overdue days and statuses move on), plan the next year again
        next_day = today + dt.timedelta(days=1)
        for job, opts in (("refresh", JobOptions(today=next_day)), ("plan", JobOptions(today=today, year=2027))):
            do_job = fresh(lambda: run_job_on_file(job, work, opts))
            do_bare = fresh(bare)
            runs = [(do_job(), do_bare()) for _ in range(repeat)]
            t_job = min(j for j, _ in runs)
            t_bare = min(b for _, b in runs)
            shutil.copy(src, work)
            _, m_bare = _peak(bare)
            shutil.copy(src, work)
            _, m_job = _peak(lambda: run_job_on_file(job, work, opts))
            shutil.copy(src, work)
            r_bare = _child_peak_rss(
                "import openpyxl\n"
                f"wb = openpyxl.load_workbook({str(work)!r}, keep_vba=True, keep_links=True, rich_text=True)\n"
                f"wb.save({str(work)!r})")
            shutil.copy(src, work)
            r_job = _child_peak_rss(
                "import datetime\nfrom pathlib import Path\nfrom pyfuncs.cli import run_job_on_file\n"
                "from pyfuncs.jobs import JobOptions\n"
                f"run_job_on_file({job!r}, Path({str(work)!r}), JobOptions(today=datetime.date.fromisoformat("
                f"{opts.today.isoformat()!r}), year={opts.year!r}))")
            label = f"{job}（{n_projects:,} 个项目、{n_tickets:,} 张报修单）"
            rows.append((f"{label}：耗时 vs openpyxl 裸读写", t_job, t_bare, t_job / t_bare, "≤ 1.3×"))
            rows.append((f"{label}：峰值内存（Python 分配）MiB vs 裸读写", m_job / 2**20, m_bare / 2**20,
                         m_job / m_bare, "≤ 4×"))
            if r_job and r_bare:
                rows.append((f"{label}：进程常驻内存峰值（含原生库）MiB vs 裸读写", r_job / 2**20, r_bare / 2**20,
                             r_job / r_bare, "≤ 4×"))
    return rows


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
    ap.add_argument("--only", choices=["core", "udfs", "jobs", "rollup"], action="append")
    a = ap.parse_args(argv)
    if a.quick:
        a.rows, a.udf_rows, a.projects, a.tickets = 2000, 2000, 20, 200
        a.rollup_workbooks, a.rollup_tickets = 2, 30
    only = set(a.only or ["core", "udfs", "jobs", "rollup"])
    rows: list[tuple] = []
    if "core" in only:
        rows += bench_core(a.rows)
    if "udfs" in only:
        rows += bench_udfs(a.udf_rows)
    if "jobs" in only:
        rows += bench_jobs(a.projects, a.tickets)
    if "rollup" in only:
        rows += bench_rollup(a.rollup_workbooks, a.rollup_tickets)
    print(f"机器：{machine()}；时间单位：秒（内存：MiB；UDF：微秒/行）")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
