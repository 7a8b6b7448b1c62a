"""自检 (self-test): the Python side of the ribbon's 自检 button, also runnable on a file.

``run_selftest(target)`` runs real checks and writes a pass/fail sheet ``自检结果`` into the
workbook. ``target`` is a workbook path (opened with openpyxl through
:class:`pyfuncs.io.filebook.FileBook`, saved safely), an open :class:`pyfuncs.io.book.Book`, or
an ``xlwings.Book`` (the live workbook that pressed the button).

What is checked (one row each, 结果 = 通过 / 失败 / 未实现 / 跳过):

- 版本: Python; the xlwings Python package against the ``XLWINGS_VERSION`` of the workbook's VBA
  (they must be equal: the VBA loads ``xlwings64-<version>.dll`` shipped with the package);
- 导入: every module of the ``pyfuncs`` package imports;
- 工作簿: every sheet and table of the schema is there with its headers;
- VBA: the ``xlwings_udfs`` module has a wrapper for every worksheet function (a workbook built
  before a function was added lacks it);
- 工作表函数: each worksheet function on sample values, against the result computed by the core
  directly (:func:`udf_cases`);
- 作业: each ribbon job (``pyfuncs.jobs.<name>.run``) on a scratch copy of the workbook's file; a
  job whose module does not exist yet is reported 未实现, never passed.

Example::

    >>> from pyfuncs.build import build_workbook                      # doctest: +SKIP
    >>> p = build_workbook("/tmp/demo.xlsm")                           # doctest: +SKIP
    >>> report = run_selftest(p)                                       # doctest: +SKIP
    >>> report.counts()                                                # doctest: +SKIP
    {'通过': 31, '失败': 0, '未实现': 3, '跳过': 0}
"""
from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import re
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

PASS, FAIL, TODO, SKIP = "通过", "失败", "未实现", "跳过"
RESULTS = (PASS, FAIL, TODO, SKIP)
RESULT_SHEET = "自检结果"
HEADER = ["类别", "检查项", "结果", "说明"]
HEADER_ROW = 4
SELF_JOB = "selftest"


@dataclass
class Check:
    category: str
    name: str
    result: str
    detail: str = ""


@dataclass
class SelftestReport:
    checks: list[Check] = field(default_factory=list)
    started: dt.datetime = field(default_factory=dt.datetime.now)

    def add(self, category: str, name: str, result: str, detail: str = "") -> Check:
        assert result in RESULTS, result
        c = Check(category, name, result, _one_line(detail))
        self.checks.append(c)
        return c

    def counts(self) -> dict[str, int]:
        return {r: sum(c.result == r for c in self.checks) for r in RESULTS}

    @property
    def ok(self) -> bool:
        """No check failed (未实现 and 跳过 are not failures, but are shown)."""
        return not any(c.result == FAIL for c in self.checks)

    def summary(self) -> str:
        n = self.counts()
        return (f"共 {len(self.checks)} 项：通过 {n[PASS]}，失败 {n[FAIL]}，"
                f"未实现 {n[TODO]}，跳过 {n[SKIP]}")

    def rows(self) -> list[list[str]]:
        return [[c.category, c.name, c.result, c.detail] for c in self.checks]


def _one_line(text: Any, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _error_text(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f"（{Path(tb[-1].filename).name}:{tb[-1].lineno}）" if tb else ""
    return f"{type(e).__name__}: {e}{where}"


# --------------------------------------------------------------------------------------------------
# The workbook behind the target
# --------------------------------------------------------------------------------------------------

def _is_xlwings_book(obj: Any) -> bool:
    return type(obj).__module__.startswith("xlwings") and hasattr(obj, "fullname")


def _book_path(target: Any) -> Path | None:
    """The file of the workbook (for VBA reading and scratch copies), or None (never saved)."""
    if isinstance(target, (str, os.PathLike)):
        return Path(target)
    if _is_xlwings_book(target):
        full = str(target.fullname)
        return Path(full) if full and os.path.isabs(full) and os.path.exists(full) else None
    p = getattr(target, "path", None)
    return Path(p) if p else None


def _wrap_xlwings(book: Any):
    """A :class:`pyfuncs.io.book.Book` over a live xlwings book (the Excel implementation)."""
    try:
        mod = importlib.import_module("pyfuncs.io.xlbook")
    except ModuleNotFoundError as e:
        raise RuntimeError("缺少 pyfuncs.io.xlbook（Excel 中的工作簿读写实现），无法写入自检结果") from e
    return mod.XlBook(book)


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------

def vba_modules_of(path: Path) -> dict[str, str]:
    """Module name → code of the workbook file's VBA project (read with oletools)."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        if not parser.detect_vba_macros():
            return {}
        return {Path(name).stem: code for (_f, _s, name, code) in parser.extract_macros()}
    finally:
        parser.close()


def vba_xlwings_version(code: str) -> str | None:
    """``Public Const XLWINGS_VERSION As String = "0.37.8"`` → ``'0.37.8'``.

    >>> vba_xlwings_version('Public Const XLWINGS_VERSION As String = "0.37.8"')
    '0.37.8'
    """
    m = re.search(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', code, re.IGNORECASE)
    return m.group(1) if m else None


def vba_functions(code: str) -> list[str]:
    """Names of the ``Function``s declared in a VBA module.

    >>> vba_functions('Function A(x)\\r\\nEnd Function\\r\\nPublic Function B()\\r\\n')
    ['A', 'B']
    """
    return re.findall(r"^\s*(?:Public\s+|Private\s+)?Function\s+(\w+)\s*\(", code, re.IGNORECASE | re.MULTILINE)


def check_versions(report: SelftestReport, target: Any, vba: dict[str, str] | None) -> None:
    import xlwings

    ok = sys.version_info >= (3, 10)
    report.add("版本", "Python", PASS if ok else FAIL,
               f"{sys.version.split()[0]}（{sys.executable}）" + ("" if ok else "；需要 3.10 或更高版本"))
    vba_version = None
    source = ""
    if _is_xlwings_book(target):
        try:
            vba_version = str(target.macro("Ribbon.AftercareXlwingsVersion")())
            source = "工作簿 VBA"
        except Exception:  # noqa: BLE001 - fall back to the saved file
            vba_version = None
    if vba_version is None and vba is not None:
        vba_version = vba_xlwings_version(vba.get("xlwings", ""))
        source = "工作簿文件中的 VBA"
    if vba_version is None:
        report.add("版本", "xlwings（Python 与 VBA 一致）", FAIL,
                   f"Python 端 xlwings {xlwings.__version__}；读不到工作簿 VBA 中的 XLWINGS_VERSION")
    elif vba_version == xlwings.__version__:
        report.add("版本", "xlwings（Python 与 VBA 一致）", PASS,
                   f"Python 端 {xlwings.__version__}，{source} {vba_version}")
    else:
        report.add("版本", "xlwings（Python 与 VBA 一致）", FAIL,
                   f"Python 端 {xlwings.__version__}，{source} {vba_version}：请安装 xlwings=={vba_version}"
                   "，或用 aftercare new 重新生成工作簿")
    try:
        import openpyxl

        report.add("版本", "openpyxl", PASS, openpyxl.__version__)
    except Exception as e:  # noqa: BLE001
        report.add("版本", "openpyxl", FAIL, _error_text(e))


def package_modules() -> list[str]:
    """Every module of the pyfuncs package (``__main__`` modules excluded)."""
    import pyfuncs

    names = ["pyfuncs"]
    for info in pkgutil.walk_packages(pyfuncs.__path__, "pyfuncs."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            names.append(info.name)
    return sorted(names)


def check_imports(report: SelftestReport) -> None:
    for name in package_modules():
        try:
            importlib.import_module(name)
            report.add("导入", name, PASS)
        except Exception as e:  # noqa: BLE001
            report.add("导入", name, FAIL, _error_text(e))


def check_workbook(report: SelftestReport, book) -> None:
    from pyfuncs import schema

    names = book.sheet_names()
    missing = [s for s in schema.SHEET_ORDER if s not in names]
    report.add("工作簿", "工作表", FAIL if missing else PASS,
               ("缺少：" + "、".join(missing)) if missing else "、".join(schema.SHEET_ORDER))
    for table in schema.TABLES.values():
        label = f"{table.sheet}!{table.name}"
        if table.sheet not in names:
            report.add("工作簿", label, FAIL, f"缺少工作表「{table.sheet}」")
            continue
        try:
            ref = book.table_ref(table.sheet, table.name)
            if ref is None:
                report.add("工作簿", label, FAIL, f"工作表「{table.sheet}」中没有表格 {table.name}")
                continue
            (top, left), (_bottom, right) = _ref_corners(ref)
            headers = [str(v).strip() if v is not None else "" for v in
                       book.read(table.sheet, (top, left, top, right))[0]]
            lost = [h for h in table.headers if h not in headers]
            report.add("工作簿", label, FAIL if lost else PASS,
                       ("缺少列：" + "、".join(lost)) if lost else f"{len(headers)} 列")
        except Exception as e:  # noqa: BLE001
            report.add("工作簿", label, FAIL, _error_text(e))


def check_lists(report: SelftestReport, book) -> None:
    """The defined names the dropdowns list from (项目编号列表, 人员名单) exist and refer to their
    table columns; in Excel, also that the VBA that decides the on-open summary reads the same
    设置 as Python (Ribbon.AcOpenSummaryOn)."""
    from pyfuncs.schema import LIST_NAMES

    native = getattr(book, "native", None)
    for name, lst in LIST_NAMES.items():
        label = f"名称 {name}"
        try:
            got = book.defined_name(name)
        except Exception as e:  # noqa: BLE001 - a missing name is a finding, not a crash
            got, err = None, _error_text(e)
        else:
            err = ""
        want = lst.refers_to
        if got is not None and got.replace(" ", "") in (want, f"{want.split('[')[0]}[[#数据],{want.split('[', 1)[1]}]"):
            report.add("工作簿", label, PASS, f"={got}（下拉列表随表格增长）")
        else:
            report.add("工作簿", label, FAIL, (f"引用为 {got}，应为 ={want}" if got else f"缺少名称 {name}（应为 ={want}）")
                       + (f"；{err}" if err else "") + "；用 aftercare new 生成的新工作簿带有此名称")
    if native is not None and hasattr(native, "macro"):
        from pyfuncs.tables import read_settings

        try:
            vba_on = bool(native.macro("Ribbon.AcOpenSummaryOn")())
            py_on = read_settings(book)[0].open_summary
            report.add("VBA", "打开时显示待办摘要（VBA 与设置一致）", PASS if vba_on == py_on else FAIL,
                       f"VBA 读到 {'是' if vba_on else '否'}，Python 读到 {'是' if py_on else '否'}")
        except Exception as e:  # noqa: BLE001
            report.add("VBA", "打开时显示待办摘要（VBA 与设置一致）", FAIL, _error_text(e))


def _ref_corners(ref) -> tuple[tuple[int, int], tuple[int, int]]:
    """The Book interface's Ref ``(top, left, bottom, right)`` (or an ``A1:C9`` string) as corners.

    >>> _ref_corners((1, 5, 3, 9)), _ref_corners("E1:I3")
    (((1, 5), (3, 9)), ((1, 5), (3, 9)))
    """
    if isinstance(ref, str):
        from openpyxl.utils.cell import range_boundaries

        left, top, right, bottom = range_boundaries(ref)
        return (top, left), (bottom, right)
    top, left, bottom, right = ref
    return (top, left), (bottom, right)


def check_vba(report: SelftestReport, vba: dict[str, str] | None) -> None:
    if vba is None:
        report.add("VBA", "xlwings_udfs 模块", SKIP, "工作簿尚未保存为文件，无法读取其中的 VBA")
        return
    from pyfuncs.build_udfs import udf_names

    missing_mods = [m for m in ("xlwings", "xlwings_udfs", "UdfSupport", "Ribbon") if m not in vba]
    report.add("VBA", "VBA 模块", FAIL if missing_mods else PASS,
               ("缺少模块：" + "、".join(missing_mods)) if missing_mods else "、".join(sorted(vba)))
    try:
        wanted = udf_names()
    except Exception as e:  # noqa: BLE001
        report.add("VBA", "xlwings_udfs 模块", FAIL, "无法读取 pyfuncs.udfs：" + _error_text(e))
        return
    have = {f.upper() for f in vba_functions(vba.get("xlwings_udfs", ""))}
    lost = [f for f in wanted if f.upper() not in have]
    report.add("VBA", "xlwings_udfs 模块", FAIL if lost else PASS,
               (f"缺少函数包装：{'、'.join(lost)}；请用 aftercare new 重新生成工作簿") if lost
               else f"{len(wanted)} 个工作表函数")


# --- worksheet functions -------------------------------------------------------------------------

@dataclass(frozen=True)
class UdfCase:
    """One sample call: ``udf(*args)`` must equal ``expected()`` (computed by the core)."""

    udf: str
    label: str
    args: tuple
    expected: Callable[[], Any]


def _d(text: str):
    import numpy as np

    return np.array([text], dtype="datetime64[D]")


def _py(value: Any) -> Any:
    """Normalise a result for comparison: numpy scalars → Python, datetimes → dates, lists deep."""
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [_py(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else value.astype("datetime64[D]").astype(dt.date)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def udf_cases() -> list[UdfCase]:
    """Sample calls of every worksheet function, each with its expected value from the core.

    The dates are DOMAIN.md's worked examples (EDATE at month ends, Beijing heating seasons, the
    2026 National Day roll-forward).
    """
    import numpy as np

    from pyfuncs.core import clock, warranty

    def end(start, part, city=None, life=None):
        r = warranty.warranty_ends(_d(start), [part], None, [city] if city else None,
                                   [life] if life else None)
        return r.ends[0]

    def callbacks_table(start, size, year):
        import pandas as pd

        from pyfuncs.core import callbacks

        projects = pd.DataFrame({"project_id": ["P"], "accepted": [pd.Timestamp(start)], "size": [size],
                                 "four_new": ["否"], "city": [None]})
        plan = callbacks.plan_visits(projects, callbacks.project_parts(projects), year)
        return [["回访日期", "回访类型", "涉及部位", "回访事由及说明"]] + [
            [r.date, r.kinds, r.parts, callbacks.visit_text(r.reasons, r.notes)] for r in plan.itertuples()]

    D = dt.date
    return [
        UdfCase("AC_WARRANTY_END", "屋面防水 2024-02-29 起算（EDATE 月末）", (D(2024, 2, 29), "屋面防水"),
                lambda: end("2024-02-29", "屋面防水")),
        UdfCase("AC_WARRANTY_END", "电气管线 文本日期 2024-06-30", ("2024-06-30", "电气管线"),
                lambda: end("2024-06-30", "电气管线")),
        UdfCase("AC_WARRANTY_END", "供热系统 北京 2个采暖期", (D(2024, 6, 30), "供热系统", None, "北京"),
                lambda: end("2024-06-30", "供热系统", city="北京")),
        UdfCase("AC_WARRANTY_END", "地基基础和主体结构 合理使用年限50年",
                (D(2024, 6, 30), "地基基础和主体结构", None, None, 50),
                lambda: end("2024-06-30", "地基基础和主体结构", life=50)),
        UdfCase("AC_WARRANTY_END", "区域参数（两行）", ([[D(2024, 6, 30)], [D(2025, 1, 15)]], "装修工程"),
                lambda: [[end("2024-06-30", "装修工程")], [end("2025-01-15", "装修工程")]]),
        UdfCase("AC_WARRANTY_STATUS", "到期前 40 天", (D(2026, 12, 31), D(2026, 11, 21)),
                lambda: warranty.warranty_status(_d("2026-12-31"), np.datetime64("2026-11-21"))[0]),
        UdfCase("AC_WARRANTY_STATUS", "已过保", (D(2026, 1, 1), D(2026, 11, 21)),
                lambda: warranty.warranty_status(_d("2026-01-01"), np.datetime64("2026-11-21"))[0]),
        UdfCase("AC_REPAIR_DUE", "一般报修 2026-09-28（国庆顺延）", (D(2026, 9, 28),),
                lambda: clock.repair_due(_d("2026-09-28"))[0][0]),
        UdfCase("AC_REPAIR_DUE", "紧急报修 不顺延", (D(2026, 9, 30), "紧急"),
                lambda: clock.repair_due(_d("2026-09-30"), ["紧急"])[0][0]),
        UdfCase("AC_OVERDUE_DAYS", "晚到 2 天", (D(2026, 10, 8), D(2026, 10, 10)),
                lambda: clock.overdue_days(_d("2026-10-08"), _d("2026-10-10"))[0]),
        UdfCase("AC_NEXT_WORKDAY", "国庆节当天", (D(2026, 10, 1),),
                lambda: clock.default_calendar().next_workday(_d("2026-10-01"))[0]),
        UdfCase("AC_IS_WORKDAY", "国庆节当天", (D(2026, 10, 1),),
                lambda: bool(clock.default_calendar().is_workday(_d("2026-10-01"))[0])),
        UdfCase("AC_IS_WORKDAY", "普通周三", (D(2026, 11, 18),),
                lambda: bool(clock.default_calendar().is_workday(_d("2026-11-18"))[0])),
        UdfCase("AC_CALLBACKS", "中型项目 2024-06-30 交付，2026 年", (D(2024, 6, 30), None, "中型", 2026),
                lambda: callbacks_table("2024-06-30", "中型", 2026)),
    ]


def check_udfs(report: SelftestReport, cases: list[UdfCase] | None = None) -> None:
    try:
        udfs = importlib.import_module("pyfuncs.udfs")
    except Exception as e:  # noqa: BLE001
        report.add("工作表函数", "pyfuncs.udfs", FAIL, "无法导入：" + _error_text(e))
        return
    try:
        cases = udf_cases() if cases is None else cases
    except Exception as e:  # noqa: BLE001
        report.add("工作表函数", "样例", FAIL, "无法准备样例：" + _error_text(e))
        return
    try:
        from pyfuncs.build_udfs import udf_names

        names = udf_names()
    except Exception:  # noqa: BLE001 - fall back to the AC_ naming convention
        names = sorted(n for n in dir(udfs) if n.startswith("AC_") and callable(getattr(udfs, n)))
    covered = {c.udf for c in cases}
    for case in cases:
        label = f"{case.udf}：{case.label}"
        fn = getattr(udfs, case.udf, None)
        if fn is None:
            report.add("工作表函数", label, FAIL, f"pyfuncs.udfs 中没有函数 {case.udf}")
            continue
        try:
            expected = _py(case.expected())
        except Exception as e:  # noqa: BLE001
            report.add("工作表函数", label, FAIL, "核心计算出错：" + _error_text(e))
            continue
        try:
            actual = _py(fn(*case.args))
        except Exception as e:  # noqa: BLE001
            report.add("工作表函数", label, FAIL, "函数出错：" + _error_text(e))
            continue
        if actual == expected:
            report.add("工作表函数", label, PASS, f"= {_show(actual)}")
        else:
            report.add("工作表函数", label, FAIL, f"得到 {_show(actual)}，应为 {_show(expected)}")
    for name in names:
        if name not in covered:
            report.add("工作表函数", name, SKIP, "没有自检样例（请在 pyfuncs/selftest.py 的 udf_cases 中补充）")


def _plain(value: Any) -> str:
    """A value as staff read it: dates as YYYY-MM-DD, rows joined by ；, cells by ，, a problem by
    its Chinese text; never a Python repr.

    >>> _plain([[dt.date(2026, 6, 30)], [dt.date(2027, 1, 15)]])
    '2026-06-30；2027-01-15'
    >>> _plain([["回访日期", "部位"], [dt.date(2026, 2, 14), None]])
    '回访日期，部位；2026-02-14，'
    >>> _plain({"a": 1.0})
    'a：1'
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, dict):
        return "，".join(f"{_plain(k)}：{_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        rows = [_plain(v) for v in value]
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return "；".join(rows)
        return ("；" if all(isinstance(v, (list, tuple)) and len(v) == 1 for v in value) else "，").join(rows)
    if hasattr(value, "message") and hasattr(value, "sheet"):  # a Problem
        return str(getattr(value, "label", None) or value.message)
    return str(value)


def _show(value: Any) -> str:
    return _one_line(_plain(value), 120)


# --- jobs ------------------------------------------------------------------------------------------

def ribbon_jobs() -> list[str]:
    """The job names behind the ribbon buttons, except 自检 itself."""
    from pyfuncs.jobs import RIBBON_JOBS

    return [j for j in RIBBON_JOBS.values() if j != SELF_JOB]


def check_jobs(report: SelftestReport, path: Path | None, today: dt.date,
               progress: Callable[[int, str], None] | None = None) -> None:
    """Run every ribbon job on a copy of the file; ``progress(i, label)`` before the i-th (from 1)."""
    from pyfuncs.jobs import RIBBON_JOBS

    labels = {job: label for label, job in RIBBON_JOBS.items()}
    jobs = ribbon_jobs()
    if path is None:
        for job in jobs:
            report.add("作业", f"{labels[job]}（{job}）", SKIP, "工作簿尚未保存为文件，无法制作副本试运行")
        return
    with tempfile.TemporaryDirectory(prefix="aftercare-selftest-") as tmp:
        for i, job in enumerate(jobs, start=1):
            label = f"{labels[job]}（{job}）"
            if progress is not None:
                progress(i, labels[job])
            module_name = f"pyfuncs.jobs.{job}"
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                if e.name == module_name:
                    report.add("作业", label, TODO, f"{module_name} 尚未实现")
                else:
                    report.add("作业", label, FAIL, "导入失败：" + _error_text(e))
                continue
            except Exception as e:  # noqa: BLE001
                report.add("作业", label, FAIL, "导入失败：" + _error_text(e))
                continue
            run = getattr(module, "run", None)
            if not callable(run):
                report.add("作业", label, TODO, f"{module_name} 没有 run 函数")
                continue
            report.add("作业", label, *_run_job_on_copy(run, job, path, Path(tmp), today))


def _run_job_on_copy(run: Callable, job: str, path: Path, tmp: Path, today: dt.date) -> tuple[str, str]:
    from pyfuncs.io.book import BookError
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import JobOptions, JobResult

    scratch = tmp / f"{job}{path.suffix or '.xlsm'}"
    shutil.copyfile(path, scratch)
    try:
        book = FileBook.open(scratch, lock_wait=1.0)
    except Exception as e:  # noqa: BLE001
        return FAIL, "无法打开副本：" + _error_text(e)
    try:
        try:
            result = run(book, JobOptions(today=today, year=today.year))
        except BookError as e:  # a refusal the job explains to staff is the job working
            return PASS, f"作业给出提示：{e}"
        if not isinstance(result, JobResult):
            return FAIL, f"run 返回了 {type(result).__name__}，应为 JobResult"
        book.save()
    except Exception as e:  # noqa: BLE001
        return FAIL, _error_text(e)
    finally:
        book.close()
    try:
        with FileBook.open(scratch, lock=False) as again:
            for name in again.sheet_names():
                again.extent(name)
    except Exception as e:  # noqa: BLE001
        return FAIL, "保存后的副本无法再打开：" + _error_text(e)
    errors = [p for p in result.problems if getattr(p, "level", "错误") == "错误"]
    parts = ["已在副本上运行并保存"]
    if result.messages:
        parts.append("；".join(str(m) for m in result.messages[:2]))
    if result.problems:
        parts.append(f"数据问题 {len(result.problems)} 条（其中错误 {len(errors)} 条）")
    return PASS, "；".join(parts)


# --------------------------------------------------------------------------------------------------
# Writing the sheet, and the entry point
# --------------------------------------------------------------------------------------------------

def write_results(book, report: SelftestReport) -> None:
    """(Re)create the 自检结果 sheet: title, summary, one row per check, each result coloured."""
    from pyfuncs.layout import Layout, fit_row_heights

    lay = Layout(RESULT_SHEET, print_title_rows=f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"A{HEADER_ROW + 1}")
    lay.put(1, 1, "回访保修 自检结果", "section")
    lay.put(2, 1, f"运行时间：{report.started:%Y-%m-%d %H:%M:%S}；Python {sys.version.split()[0]}；"
                  f"xlwings {sys.modules['xlwings'].__version__}", "plain")
    lay.put(3, 1, report.summary(), "section")
    for j, h in enumerate(HEADER, start=1):
        lay.put(HEADER_ROW, j, h, "header")
    style = {PASS: "good", FAIL: "bad", TODO: "warn", SKIP: "muted"}
    for i, (check, row) in enumerate(zip(report.checks, report.rows()), start=HEADER_ROW + 1):
        for j, v in enumerate(row, start=1):
            lay.put(i, j, v, style[check.result] if j == 3 else "cell")
    lay.widths = {1: 12, 2: 44, 3: 8, 4: 90}
    fit_row_heights(lay)
    book.put_sheet(lay)


def run_selftest(target: Any, *, today: dt.date | None = None, cases: list[UdfCase] | None = None,
                 write: bool = True) -> SelftestReport:
    """Run every check on the workbook ``target`` and write the 自检结果 sheet into it.

    ``target``: a path (the file is saved safely afterwards), a :class:`pyfuncs.io.book.Book`
    (not saved here: the caller saves), or an ``xlwings.Book``. ``cases`` replaces
    :func:`udf_cases` (tests use it to prove a wrong expectation is reported 失败).
    """
    from pyfuncs.io.book import Book

    today = today or dt.date.today()
    report = SelftestReport()
    path = _book_path(target)
    # the steps, for a Book's progress (the command line's bar, Excel's status bar)
    say = target.progress if isinstance(target, Book) else (lambda step, total, text: None)
    total = len(ribbon_jobs()) + 3
    say(1, total, "检查版本、模块和 VBA")
    vba: dict[str, str] | None = None
    if path is not None:
        try:
            vba = vba_modules_of(path)
        except Exception as e:  # noqa: BLE001
            report.add("VBA", "读取 VBA", FAIL, _error_text(e))
    check_versions(report, target, vba)
    check_imports(report)
    check_vba(report, vba)
    say(2, total, "检查工作表函数")
    check_udfs(report, cases)
    check_jobs(report, path, today, progress=lambda i, label: say(2 + i, total, f"在副本上试运行「{label}」"))
    say(total, total, "检查工作簿结构")

    if isinstance(target, (str, os.PathLike)):
        from pyfuncs.io.filebook import FileBook

        book = FileBook.open(target)
        try:
            check_workbook(report, book)
            check_lists(report, book)
            if write:
                write_results(book, report)
                book.save()
        finally:
            book.close()
    else:
        book = target if isinstance(target, Book) else _wrap_xlwings(target)
        check_workbook(report, book)
        check_lists(report, book)
        if write:
            write_results(book, report)
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pyfuncs.selftest", description="自检：检查版本、导入、工作表函数和各作业")
    ap.add_argument("path", help="工作簿路径")
    args = ap.parse_args(argv)
    report = run_selftest(args.path)
    for c in report.checks:
        print(f"[{c.result}] {c.category} {c.name} {c.detail}")
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
