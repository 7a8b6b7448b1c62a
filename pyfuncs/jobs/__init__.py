"""The jobs: one implementation each, behind two front doors (ribbon macros and the command line).

Every job module ``pyfuncs.jobs.<name>`` exposes ``run(book, opts) -> JobResult``, where ``book`` is
a :class:`pyfuncs.io.book.Book` (an open workbook file, or the live Excel workbook through xlwings)
and ``opts`` a :class:`JobOptions`. The job reads typed tables from the book, calls the pure core,
and writes only its own computed cells and generated sheets back. Saving is the caller's business.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pyfuncs.problem import Problem  # noqa: F401 - re-exported for the jobs


@dataclass
class JobOptions:
    today: dt.date = field(default_factory=dt.date.today)
    year: int | None = None
    selection: list[str] = field(default_factory=list)  # plan rows / ticket ids for forms
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    job: str
    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # JSON-able figures for --json
    messages: list[str] = field(default_factory=list)      # Chinese lines for staff

    @property
    def ok(self) -> bool:
        return not any(p.level == "错误" for p in self.problems)


#: ribbon button label → job name (= CLI command = pyfuncs.macros function = pyfuncs.jobs module)
RIBBON_JOBS = {
    "生成年度回访计划": "plan",
    "刷新台账": "refresh",
    "登记回访": "visits",
    "统计报表": "report",
    "打印回访单": "forms",
    "数据检查": "check",
    "自检": "selftest",
    "本周待办": "todo",
    "项目档案": "project",
    "案例库": "cases",
}

#: ribbon buttons that are not a job on an open Book: label → command (= CLI command = pyfuncs.macros
#: function). 恢复上一版 works on the workbook's file and its backups (pyfuncs.io.backups).
RIBBON_COMMANDS = {
    "恢复上一版": "restore",
}
