"""The ten warranty parts (保修部位) and their statutory minimum terms.

Labels are the exact values staff pick in the workbook (DOMAIN.md §1). ``None`` as a floor means
"no statutory floor" (其他), and the structure's floor is the project's design service life.

Example::

    >>> STATUTORY["屋面防水"]
    Term(amount=5, unit='year')
    >>> STATUTORY["供热系统"]
    Term(amount=2, unit='heating')
"""
from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    """A warranty length: ``amount`` of ``unit`` (``year``, ``month``, ``heating``, ``cooling``)."""

    amount: int
    unit: str

    @property
    def months(self) -> int | None:
        """The term in months, or None for season terms."""
        if self.unit == "year":
            return self.amount * 12
        if self.unit == "month":
            return self.amount
        return None

    def label(self) -> str:
        return f"{self.amount}{UNIT_LABELS[self.unit]}"


UNIT_LABELS = {"year": "年", "month": "个月", "heating": "个采暖期", "cooling": "个供冷期"}

STRUCTURE = "地基基础和主体结构"
ROOF = "屋面防水"
LEAK = "防渗漏"
HEATING = "供热系统"
COOLING = "供冷系统"
OTHER = "其他"

PART_LABELS: tuple[str, ...] = (
    STRUCTURE,
    ROOF,
    LEAK,
    HEATING,
    COOLING,
    "电气管线",
    "给排水管道",
    "设备安装",
    "装修工程",
    OTHER,
)

#: Statutory minimum per part; the structure's is the design life and is filled per project.
STATUTORY: dict[str, Term | None] = {
    STRUCTURE: None,
    ROOF: Term(5, "year"),
    LEAK: Term(5, "year"),
    HEATING: Term(2, "heating"),
    COOLING: Term(2, "cooling"),
    "电气管线": Term(2, "year"),
    "给排水管道": Term(2, "year"),
    "设备安装": Term(2, "year"),
    "装修工程": Term(2, "year"),
    OTHER: None,
}

#: The term used when the contract says nothing (其他: the model 保修书 uses 2 years).
DEFAULT_TERM: dict[str, Term | None] = {**STATUTORY, OTHER: Term(2, "year")}
