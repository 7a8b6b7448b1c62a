"""The ten warranty parts (保修部位) and their statutory minimum terms.

Labels are the exact values staff pick in the workbook (DOMAIN.md §1). ``None`` as a floor means
"no statutory floor" (其他), and the structure's floor is the project's design service life.

Each part also has a default discipline (专业, docs/rules-ledger.md §6: problems are classified by
responsible party and by discipline): the one mapping :data:`PART_DISCIPLINE`, used for the
专业 column of 报修台账 and 回访记录 where staff left it blank.

Example::

    >>> STATUTORY["屋面防水"]
    Term(amount=5, unit='year')
    >>> STATUTORY["供热系统"]
    Term(amount=2, unit='heating')
    >>> discipline_of(["防渗漏", "电气管线", "给排水管道", "装修工程", None, "不知道"]).tolist()
    ['土建', '机电', '安装', '装饰', None, None]
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


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


# --- 专业 (discipline) ---------------------------------------------------------------------------
CIVIL, MEP, FINISH, INSTALL, OTHER_DISCIPLINE = "土建", "机电", "装饰", "安装", "其他"
#: The exact labels staff pick in the 专业 columns.
DISCIPLINES: tuple[str, ...] = (CIVIL, MEP, FINISH, INSTALL, OTHER_DISCIPLINE)

#: 保修部位 → default 专业. Structure and waterproofing are civil works (土建); the building's
#: electrical, heating and cooling systems are 机电; pipework and equipment are installed by the
#: installation trades (安装); fit-out is 装饰. Staff may overwrite the 专业 of any row.
PART_DISCIPLINE: dict[str, str] = {
    STRUCTURE: CIVIL,
    ROOF: CIVIL,
    LEAK: CIVIL,
    HEATING: MEP,
    COOLING: MEP,
    "电气管线": MEP,
    "给排水管道": INSTALL,
    "设备安装": INSTALL,
    "装修工程": FINISH,
    OTHER: OTHER_DISCIPLINE,
}


def discipline_of(parts: Any) -> np.ndarray:
    """The default 专业 of each 保修部位 (object array; None where the part is blank or unknown)."""
    arr = np.asarray(parts, dtype=object).reshape(-1)
    return np.array([PART_DISCIPLINE.get(p.strip() if isinstance(p, str) else p) for p in arr], dtype=object)
