"""The ``aftercare`` command: every ribbon job on a workbook file, plus ``new``, ``demo`` and
``configure``.

    aftercare demo                      # a sample company in ./aftercare-demo.xlsm, every job run
    aftercare new aftercare.xlsm        # a fresh empty workbook
    aftercare refresh aftercare.xlsm --today 2026-11-21
    aftercare plan aftercare.xlsm --year 2027
    aftercare check aftercare.xlsm --json
    aftercare rollup 各分公司台账 集团汇总.xlsx   # every workbook in a folder → one summary

Each job command is the same code as the ribbon button of that name (``pyfuncs.jobs.<name>``),
run on the file through :class:`~pyfuncs.io.filebook.FileBook`: the file is locked while the job
runs, refused when Excel has it open, and saved through a temporary file with a backup.

Exit status: 0 done; 1 ``check`` found errors (or ``selftest`` a failed check); 2 the file was refused (missing, open in Excel,
being processed by another run, encrypted, corrupt, not a workbook; for ``rollup``: the folder, or
an output that is not a new .xlsx or an earlier summary) or the arguments are wrong;
3 an unexpected program error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_BUG = 0, 1, 2, 3
DEMO_PATH = "aftercare-demo.xlsm"
MAX_LISTED = 40

JOB_HELP = {
    "plan": "生成年度回访计划（回访计划YYYY 工作表）",
    "refresh": "刷新台账：保修到期日、应到场日期、是否在保、费用承担、超期、报修单号",
    "visits": "登记回访：标记计划已回访，为发现的问题开报修单",
    "report": "统计报表：填写“统计”工作表和图表",
    "forms": "打印回访单、维修单、保修期满通知书",
    "check": "数据检查：列出所有数据问题（有错误时退出码为1）",
    "selftest": "自检：检查工作簿结构和计算规则",
}


def _today(text: str) -> dt.date:
    from pyfuncs.core.dates import DateError, to_date

    try:
        d = to_date(text)
    except (DateError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"日期无效：{text}（{e}）") from e
    if d is None:
        raise argparse.ArgumentTypeError("日期不能为空")
    return d


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.replace("，", ",").replace("、", ",").split(",") if t.strip()]


def _common(p: argparse.ArgumentParser, path_required: bool = True) -> None:
    if path_required:
        p.add_argument("path", help="工作簿路径（.xlsm）")
    p.add_argument("--today", type=_today, default=None, metavar="DATE",
                   help="按这一天计算（默认今天），如 2026-11-21，便于复现结果")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON 摘要")
    p.add_argument("-v", "--verbose", action="store_true", help="显示进度")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aftercare", description="回访保修：工程回访与保修台账（Excel 工作簿的命令行工具）")
    from pyfuncs import __version__

    ap.add_argument("--version", action="version", version=f"aftercare {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="命令")
    sub.required = True

    p = sub.add_parser("new", help="新建一个空白工作簿")
    _common(p)
    p.add_argument("--force", action="store_true", help="文件已存在时覆盖（旧文件会备份）")

    p = sub.add_parser("demo", help=f"生成示例公司数据并运行全部任务（默认 {DEMO_PATH}）")
    p.add_argument("path", nargs="?", default=DEMO_PATH, help=f"输出路径（默认 {DEMO_PATH}）")
    _common(p, path_required=False)
    p.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026，结果可复现）")
    p.add_argument("--projects", type=int, default=60, help="项目数（默认 60）")
    p.add_argument("--tickets", type=int, default=600, help="报修单数（默认 600）")
    p.add_argument("--visits", type=int, default=200, help="回访记录数（默认 200）")

    for name, text in JOB_HELP.items():
        p = sub.add_parser(name, help=text, description=text)
        _common(p)
        if name == "plan":
            p.add_argument("--year", type=int, default=None, help="计划年度（默认：--today 所在年度）")
        if name == "forms":
            p.add_argument("--plan-rows", type=_list, default=[], metavar="ROWS",
                           help="回访计划工作表的 Excel 行号，逗号分隔，如 4,5,8（打印工程回访单）")
            p.add_argument("--tickets", type=_list, default=[], metavar="IDS",
                           help="报修单号，逗号分隔（打印保修/维修单）")
            p.add_argument("--notices", type=_list, default=[], metavar="P:YYYY-MM",
                           help="项目编号:月份，如 XM2024-01:2026-03（打印保修期满通知书）")
            p.add_argument("--select", type=_list, default=[], metavar="ITEMS",
                           help="直接给出要打印的项，如 plan:2026:12,repair:BX2026-0001,visit:P001:2026-03")
            p.add_argument("--year", type=int, default=None, help="回访计划年度（默认：--today 所在年度）")
            p.add_argument("--out", default=None, metavar="DIR", help="每张单据另存为单独文件的目录（默认：写入工作簿的工作表）")
        if name == "check":
            p.add_argument("--sheet", action="store_true", help="同时把结果写入“检查结果”工作表")
            p.add_argument("--all", action="store_true", help="列出全部问题（默认最多列出 %d 条）" % MAX_LISTED)

    add_rollup_parser(sub)

    p = sub.add_parser("configure", help="把本机 Python 路径写入工作簿的 xlwings.conf 工作表")
    p.add_argument("path", help="工作簿路径")
    p.add_argument("--interpreter", default=None)
    p.add_argument("--pythonpath", default=None)
    p.add_argument("--json", action="store_true", help="输出 JSON")
    return ap


# ---- output --------------------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            pass
    return v


def result_dict(result, path: Path | None = None, **extra) -> dict:
    return _jsonable({
        "job": result.job,
        "ok": result.ok,
        "path": str(path) if path else None,
        "summary": result.summary,
        "messages": result.messages,
        "problems": [{"sheet": p.sheet, "row": p.row, "column": p.column, "level": p.level, "message": p.message}
                     for p in result.problems],
        **extra,
    })


def print_result(result, args, path: Path | None = None, **extra) -> None:
    if getattr(args, "json", False):
        print(json.dumps(result_dict(result, path, **extra), ensure_ascii=False, indent=1))
        return
    for m in result.messages:
        print(m)
    probs = result.problems
    if probs:
        limit = None if getattr(args, "all", False) else MAX_LISTED
        errors = sum(p.level == "错误" for p in probs)
        print(f"问题 {len(probs)} 条（错误 {errors}，提示 {len(probs) - errors}）：")
        for p in probs[:limit]:
            print(f"  [{p.level}] {p}")
        if limit is not None and len(probs) > limit:
            print(f"  ……还有 {len(probs) - limit} 条（用 --json 或 check --all 查看全部）")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


# ---- running jobs --------------------------------------------------------------------------------
def job_options(args) -> "Any":
    from pyfuncs.jobs import JobOptions

    today = args.today or dt.date.today()
    extra: dict[str, Any] = {}
    selection: list[str] = []
    if args.command == "forms":
        year = args.year or today.year
        selection = ([f"plan:{year}:{r}" for r in args.plan_rows] + [f"repair:{t}" for t in args.tickets]
                     + [f"notice:{n}" for n in args.notices] + list(args.select))
        extra = {"out": args.out} if args.out else {}
    if args.command == "check":
        extra = {"sheet": bool(args.sheet)}
    return JobOptions(today=today, year=getattr(args, "year", None) or today.year, selection=selection, extra=extra)


def load_job(name: str):
    """The job module ``pyfuncs.jobs.<name>`` (imported only when used)."""
    return importlib.import_module(f"pyfuncs.jobs.{name}")


def run_job_on_file(name: str, path: str | Path, opts, *, verbose: bool = False, save: bool = True):
    """Open ``path`` (locked), run job ``name``, save when it changed anything; returns the result."""
    from pyfuncs.io.filebook import FileBook

    if name == "selftest":
        return run_selftest(path, opts)
    job = load_job(name)
    with FileBook.open(path, verbose=verbose) as book:
        result = job.run(book, opts)
        if save and book.dirty:
            book.set_status("保存中…")
            book.save()
    return result


def run_selftest(path, opts):
    """自检 on a file: ``pyfuncs.selftest.run_selftest`` (it opens, locks and saves the file)."""
    from pyfuncs.jobs import JobResult, Problem
    from pyfuncs.io.safe import check_file

    check_file(path)
    st = importlib.import_module("pyfuncs.selftest")
    report = st.run_selftest(str(path), today=opts.today)
    result = JobResult("selftest")
    result.summary = {"ok": report.ok, **report.counts()}
    result.messages.append(f"自检完成：{report.summary()}（详见“自检结果”工作表）")
    for c in report.checks:
        if c.result == "失败":
            result.problems.append(Problem("自检结果", None, c.category, f"{c.name}：{c.detail}"))
    return result


def cmd_new(args) -> int:
    from pyfuncs.io.safe import check_file, job_lock, safe_save

    path = Path(args.path)
    if path.exists() and not args.force:
        _err(f"文件已存在：{path}（如要覆盖请加 --force，旧文件会备份到 .aftercare-backup）")
        return EXIT_REFUSED
    if path.exists():
        check_file(path)
    build = importlib.import_module("pyfuncs.build")
    path.parent.mkdir(parents=True, exist_ok=True)
    with job_lock(path):
        safe_save(path, lambda tmp: build.build_workbook(tmp))
    if args.json:
        print(json.dumps({"job": "new", "ok": True, "path": str(path)}, ensure_ascii=False))
    else:
        print(f"已新建工作簿：{path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    demo = importlib.import_module("pyfuncs.demo")
    today = args.today or dt.date.today()
    out = demo.make_demo(args.path, today=today, seed=args.seed, n_projects=args.projects,
                         n_tickets=args.tickets, n_visits=args.visits, verbose=args.verbose)
    if args.json:
        print(json.dumps(_jsonable(out), ensure_ascii=False, indent=1))
    else:
        for line in out["lines"]:
            print(line)
    return EXIT_OK


# ---- rollup: a folder of workbooks → one summary (pyfuncs.rollup) ---------------------------------
ROLLUP_HELP = "集团汇总：把文件夹（含子文件夹）中各分公司的工作簿汇总到一个新的 .xlsx 工作簿（只读取，不改动原文件）"


def add_rollup_parser(sub) -> None:
    p = sub.add_parser("rollup", help=ROLLUP_HELP, description=ROLLUP_HELP)
    p.add_argument("folder", help="存放各分公司/区域工作簿的文件夹")
    p.add_argument("out", help="汇总结果文件（.xlsx；已存在的汇总结果会被替换，旧文件备份）")
    _common(p, path_required=False)


def cmd_rollup(args) -> int:
    rollup = importlib.import_module("pyfuncs.rollup")

    def progress(i: int, n: int, name: str) -> None:
        print(f"（{i}/{n}）读取 {name}", file=sys.stderr)

    result = rollup.rollup(args.folder, args.out, today=args.today, progress=progress if args.verbose else None)
    if args.json:
        print(json.dumps(_jsonable({"job": "rollup", "ok": True, **result.summary}), ensure_ascii=False, indent=1))
    else:
        for line in result.messages:
            print(line)
    return EXIT_OK


def cmd_configure(args) -> int:
    conf = importlib.import_module("pyfuncs.configure")
    written = conf.configure_workbook(args.path, interpreter=args.interpreter, pythonpath=args.pythonpath)
    if args.json:
        print(json.dumps({"job": "configure", "ok": True, "written": written}, ensure_ascii=False))
    else:
        for k, v in written.items():
            print(f"{k} = {v}")
        print(f"已写入「{Path(args.path).name}」的 xlwings.conf 工作表。")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from pyfuncs.io.book import BookError

    for stream in (sys.stdout, sys.stderr):  # Chinese on a Windows console
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    ap = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        ap.print_help()
        return EXIT_OK
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else EXIT_REFUSED
    try:
        if args.command == "new":
            return cmd_new(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "configure":
            return cmd_configure(args)
        if args.command == "rollup":
            return cmd_rollup(args)
        opts = job_options(args)
        result = run_job_on_file(args.command, args.path, opts, verbose=args.verbose)
        print_result(result, args, Path(args.path))
        if args.command in ("check", "selftest") and not result.ok:
            return EXIT_PROBLEMS
        return EXIT_OK
    except BookError as e:
        _err(str(e))
        return EXIT_REFUSED
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("pyfuncs"):
            _err(f"该功能尚未安装：{e.name}")
            return EXIT_BUG
        raise
    except BrokenPipeError:  # output piped into `head`: the job itself finished
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        _err("已中断，工作簿未改动。")
        return EXIT_REFUSED
    except Exception as e:  # noqa: BLE001
        _err(f"程序出错（工作簿未改动）：{type(e).__name__}: {e}")
        if getattr(args, "verbose", False):
            traceback.print_exc()
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
