"""Test data for the plan/visits/report/forms jobs: a real workbook file with a few projects,
warranty rows, repair tickets and visit records, written through the IO layer's append_rows."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from _io_fixtures import make_workbook

D = dt.date

PROJECTS = [
    # id, name, client, city, size, accepted, life, four_new, manager, owner, contact, phone
    ("P001", "幸福里小区1号楼", "幸福置业有限公司", "北京", "大型", D(2024, 6, 30), 50, "是", "王建国", "李回访", "张经理", "13800000001"),
    ("P002", "城东学校教学楼", "城东区教育局", "天津", "中型", D(2025, 3, 15), None, "否", "赵工", "", "刘主任", "13800000002"),
    ("P003", "滨河商业综合体", "滨河商业管理公司", "沈阳", "小型", D(2023, 10, 20), None, "否", "钱工", "孙回访", "周总", "13800000003"),
]

REPAIRS = [
    # ticket, pid, notice, part, place, problem, urgency, cause, arrival, done, state
    ("BX2026-0001", "P001", D(2026, 7, 2), "屋面防水", "顶层", "屋面渗水", "一般", "施工质量", D(2026, 7, 6), D(2026, 7, 10), "已完成"),
    ("BX2026-0002", "P001", D(2026, 9, 28), "给排水管道", "3单元", "管道漏水", "一般", "施工方采购材料", None, None, "待派工"),
    ("BX2026-0003", "P002", D(2026, 10, 10), "装修工程", "走廊", "墙面开裂", "一般", "使用不当", D(2026, 10, 30), None, "维修中"),
    ("BX2025-0007", "P003", D(2025, 12, 1), "供热系统", "二层", "暖气不热", "紧急", "施工质量", D(2025, 12, 1), D(2025, 12, 3), "已关闭"),
]

VISITS = [
    # date, pid, kind, way, visitor, met, problems, satisfaction, visit_id, registered
    (D(2025, 11, 5), "P001", "例行回访", "实地", "李回访", "张经理", "", "很满意", "HF2025-0001", "已登记 2025-11-06"),
    (D(2026, 3, 10), "P003", "例行回访", "实地", "孙回访", "周总", "", "满意", "HF2026-0001", "已登记 2026-03-11"),
]


def fill(path: Path, *, projects=PROJECTS, repairs=REPAIRS, visits=VISITS, terms=None) -> Path:
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import append_rows, read_table

    with FileBook.open(path) as book:
        keys = ["project_id", "name", "client", "city", "size", "accepted", "design_life", "four_new",
                "manager", "visit_owner", "contact", "phone"]
        append_rows(book, read_table(book, TABLES["projects"]), [dict(zip(keys, p)) for p in projects])
        if terms:
            append_rows(book, read_table(book, TABLES["terms"]),
                        [dict(zip(["project_id", "part", "term", "start"], t)) for t in terms])
        keys = ["ticket_id", "project_id", "notice", "part", "place", "problem", "urgency", "cause",
                "arrival", "done", "state"]
        append_rows(book, read_table(book, TABLES["repairs"]), [dict(zip(keys, r)) for r in repairs])
        keys = ["date", "project_id", "kind", "way", "visitor", "met", "problems", "satisfaction",
                "visit_id", "registered"]
        append_rows(book, read_table(book, TABLES["visits"]), [dict(zip(keys, v)) for v in visits])
        book.save()
    return path


def blank_book(path: Path) -> Path:
    """A freshly built workbook (the real build: a broken build fails these tests too)."""
    return make_workbook(path)


def sample_book(tmp_path: Path, name: str = "aftercare.xlsm", **kw) -> Path:
    return fill(blank_book(Path(tmp_path) / name), **kw)


def run_job(path: Path, module, **opts):
    """Open, run ``module.run``, save — what the command line does."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import JobOptions

    with FileBook.open(path) as book:
        result = module.run(book, JobOptions(**opts))
        book.save()
    return result


def sheet_values(path: Path, sheet: str) -> dict[tuple[int, int], object]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
