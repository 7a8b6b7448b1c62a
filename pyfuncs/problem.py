"""A problem in the user's data, located: the value type every reader, check and job shares.

It lives below :mod:`pyfuncs.tables` and the jobs (layers point down only), so the table reader
can report problems without importing the jobs package.

Example::

    >>> str(Problem("报修台账", 7, "报修日期", "「报修日期」必须填写"))
    '报修台账 第7行「报修日期」列：「报修日期」必须填写'
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "错误"  # the row is skipped (what depends on the bad cell is not computed)
HINT = "提示"   # the row is processed, with a note


@dataclass(frozen=True)
class Problem:
    """One problem in the user's data: where (sheet, row, column) and what (Chinese message)."""

    sheet: str
    row: int | None
    column: str | None
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}"
