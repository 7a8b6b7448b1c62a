"""The ``aftercare`` command: every ribbon job on a workbook file, plus ``new``, ``demo``,
``restore`` and ``configure``.

    aftercare demo                      # a sample company in ./aftercare-demo.xlsm, every job run
    aftercare new aftercare.xlsm        # a fresh empty workbook
    aftercare refresh aftercare.xlsm --today 2026-11-21
    aftercare plan aftercare.xlsm --year 2027
    aftercare check aftercare.xlsm --json
    aftercare restore aftercare.xlsm    # put the newest backup back (the current file is backed up)
    aftercare rollup 各分公司台账 集团汇总.xlsx   # every workbook in a folder → one summary

Each job command is the same code as the ribbon button of that name (``pyfuncs.jobs.<name>``),
run on the file through :class:`~pyfuncs.io.filebook.FileBook`: the file is locked while the job
runs, refused when Excel has it open or when it is not an aftercare workbook, and saved through a
temporary file with a backup (one line says where the backup went). On a terminal, a job that
takes more than about a second shows a progress bar on standard error.

Every word the command prints is Chinese, argparse's own included: the parser runs its messages
through :func:`_zh` (argparse passes each of them through gettext's ``_``), and a mistyped command
or option gets a suggestion.

Adding a command: write ``_add_<name>(sub)`` (its options, help and examples, and
``set_defaults(func=cmd_<name>)``) and list it in :data:`COMMANDS`.

Exit status: 0 done; 1 ``check`` found errors (or ``selftest`` a failed check); 2 the file was
refused (missing, open in Excel, being processed by another run, read-only, encrypted, corrupt, not
a workbook, not an aftercare workbook; for ``rollup``: the folder, or an output that is not a new
.xlsx or an earlier summary), the disk was full, or the arguments are wrong (including a
``forms`` item that names nothing); 3 an unexpected program error.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import importlib
import json
import os
import re
import sys
import traceback
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_BUG = 0, 1, 2, 3
PROG = "aftercare"
DEMO_PATH = "aftercare-demo.xlsm"
MAX_LISTED = 40
YEAR_RANGE = (2000, 2100)

JOB_HELP = {
    "plan": "生成年度回访计划（回访计划YYYY 工作表）",
    "refresh": "刷新台账：保修到期日、应到场日期、是否在保、费用承担、超期、报修单号",
    "visits": "登记回访：标记计划已回访，为发现的问题开报修单",
    "report": "统计报表：填写“统计”工作表和图表",
    "forms": "打印回访单、维修单、保修期满通知书",
    "check": "数据检查：列出所有数据问题（有错误时退出码为1）",
    "selftest": "自检：检查工作簿结构和计算规则",
    "todo": "本周待办：按负责人/维修人员列出近期要做的事（“待办”工作表）",
    "project": "项目档案：一个项目的全部资料，一页A4（“档案-项目编号”工作表）",
    "cases": "案例库：把“典型”为“是”的报修和回访问题收入“案例库”工作表，按部位、原因和专业统计（保留经验总结）",
}
JOB_EXAMPLES = {
    "plan": ["aftercare plan 台账.xlsm --year 2027", "aftercare plan 台账.xlsm --today 2026-11-21"],
    "refresh": ["aftercare refresh 台账.xlsm", "aftercare refresh 台账.xlsm --today 2026-11-21 --json"],
    "visits": ["aftercare visits 台账.xlsm"],
    "report": ["aftercare report 台账.xlsm --today 2026-12-31"],
    "forms": ["aftercare forms 台账.xlsm                                 # 本月计划中的回访单",
              "aftercare forms 台账.xlsm --tickets BX2026-0001,BX2026-0002",
              "aftercare forms 台账.xlsm --notices XM2024-01:2026-03       # 项目编号:年-月",
              "aftercare forms 台账.xlsm --plan-rows 4,5 --year 2026 --out 打印",
              "aftercare forms 台账.xlsm --pdf 本月回访单.pdf            # 同时打印成一个 PDF"],
    "check": ["aftercare check 台账.xlsm", "aftercare check 台账.xlsm --all --sheet"],
    "selftest": ["aftercare selftest 台账.xlsm"],
    "todo": ["aftercare todo 台账.xlsm", "aftercare todo 台账.xlsm --days 14 --person 张三"],
    "project": ["aftercare project 台账.xlsm XM2024-01", "aftercare project 台账.xlsm XM2024-01 XM2024-02"],
    "cases": ["aftercare cases 台账.xlsm"],
}


# ---- argparse in Chinese -------------------------------------------------------------------------
#: argparse's own messages (Python 3.11–3.14), as argparse passes them through gettext
_ZH = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "optional arguments": "选项",
    "subcommands": "命令",
    "show this help message and exit": "显示本说明并退出",
    "show program's version number and exit": "显示版本号并退出",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "必须给出其中一个参数：%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "这个选项不带值：%r",
    "expected one argument": "后面缺少一个值",
    "expected at most one argument": "后面最多只能有一个值",
    "expected at least one argument": "后面至少要有一个值",
    "expected %s argument": "后面需要 %s 个值",
    "expected %s arguments": "后面需要 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "invalid %(type)s value: %(value)r": "值 %(value)r 无效",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择 %(value)r（可选：%(choices)s）",
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)":
        "无效的选择 %(value)r，您是不是要输入 %(closest)r？（可选：%(choices)s）",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可用：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开「%(filename)s」：%(error)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "option '%(option)s' is deprecated": "选项 %(option)s 已不再使用",
    "argument '%(argument_name)s' is deprecated": "参数 %(argument_name)s 已不再使用",
    "command '%(parser_name)s' is deprecated": "命令 %(parser_name)s 已不再使用",
}


def _zh(message: str) -> str:
    return _ZH.get(message, message)


def _zh_n(singular: str, plural: str, n: int) -> str:
    return _zh(singular if n == 1 else plural)


@contextlib.contextmanager
def _chinese():
    """argparse speaks Chinese inside the block: its module-level gettext hooks are pointed at
    :func:`_zh` and restored afterwards (they are looked up when a message is made)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _zh, _zh_n
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def _wrap(text: str, width: int) -> list[str]:
    """Wrap by display width: a Chinese character takes two columns and may end a line anywhere;
    ASCII words are not split; closing punctuation never starts a line."""
    from pyfuncs.progress import display_width

    opening, closing = "（「『“《", "，。、；：）」』！？”》"
    tokens = re.findall(rf"[{opening}]*(?:[!-~]+|[^ -~])[{closing}]*| +", text)
    lines, cur, w = [], "", 0
    for tok in tokens:
        tw = display_width(tok)
        if cur and w + tw > width and not tok.isspace():
            lines.append(cur.rstrip())
            cur, w = "", 0
        if not cur and tok.isspace():
            continue
        cur += tok
        w += tw
    if cur.strip():
        lines.append(cur.rstrip())
    return lines or [""]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; option help wrapped by display width."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 30, width: int | None = None,
                 **kwargs):
        super().__init__(prog, indent_increment, max_help_position, width, **kwargs)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return _wrap(" ".join(text.split()), width)

    # argparse aligns the help column by len(); a Chinese metavar takes two columns per character
    def add_argument(self, action):
        super().add_argument(action)
        if action.help is argparse.SUPPRESS:
            return
        from pyfuncs.progress import display_width

        widths = [display_width(self._format_action_invocation(action)) + self._current_indent]
        subactions = getattr(action, "_get_subactions", lambda: [])()
        widths += [display_width(self._format_action_invocation(s)) + self._current_indent + self._indent_increment
                   for s in subactions]
        self._action_max_length = max(self._action_max_length, *widths)

    def _format_action(self, action):
        from pyfuncs.progress import display_width

        text = super()._format_action(action)
        header = self._format_action_invocation(action)
        extra = display_width(header) - len(header)
        lead = " " * self._current_indent + header
        if not extra or not action.help or not text.startswith(lead + " "):
            return text
        first, nl, tail = text[len(lead):].partition("\n")
        pad = len(first) - len(first.lstrip(" "))
        if pad - extra >= 2:
            return lead + first[extra:] + nl + tail
        help_position = min(self._action_max_length + 2, self._max_help_position)
        return lead + "\n" + " " * help_position + first.lstrip(" ") + nl + tail


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with Chinese words, a Chinese ``-h``, and "did you mean" suggestions."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        with _chinese():
            super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本说明（含示例）并退出")

    def parse_known_args(self, args=None, namespace=None):
        with _chinese():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with _chinese():
            ns, extras = self.parse_known_args(args, namespace)
            if extras:
                target = self._chosen(ns)
                target.error(target._unrecognized(extras))
        return ns

    def format_usage(self) -> str:
        with _chinese():
            return super().format_usage()

    def format_help(self) -> str:
        with _chinese():
            return super().format_help()

    def error(self, message: str):
        with _chinese():
            self.print_usage(sys.stderr)
            self.exit(EXIT_REFUSED, f"{self.prog}：错误：{message}\n（用「{self.prog} -h」查看说明和示例。）\n")

    # ---- suggestions -----------------------------------------------------------------------------
    def _check_value(self, action, value):
        if action.choices is None or value in action.choices:
            return
        choices = [str(c) for c in action.choices]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = f"，您是不是要输入 {close[0]}？" if close else "。"
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, f"没有「{value}」这个命令{hint}可用的命令：{'、'.join(choices)}")
        raise argparse.ArgumentError(action, f"「{value}」不是可选的值{hint}可选：{'、'.join(choices)}")

    def _chosen(self, ns) -> "ArgumentParser":
        """The subcommand's parser that ``ns`` went through (self if none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(ns, action.dest, None) or "")
                if sub is not None:
                    return sub._chosen(ns)
        return self

    def _unrecognized(self, extras: list[str]) -> str:
        options = [o for a in self._actions for o in a.option_strings]
        parts = []
        for tok in extras:
            if tok.startswith("-"):
                close = difflib.get_close_matches(tok.split("=", 1)[0], options, n=1, cutoff=0.6)
                parts.append(f"没有选项「{tok}」" + (f"，您是不是要输入 {close[0]}？" if close else "。"))
            else:
                parts.append(f"多余的参数「{tok}」（每次只处理一个工作簿；含空格的路径请加引号）。")
        return "".join(parts)


# ---- argument types: each explains, in Chinese, what it expects ----------------------------------
def _today(text: str) -> dt.date:
    from pyfuncs.core.dates import DateError, to_date

    s = unicodedata.normalize("NFKC", text).strip()
    expected = "请写成 年-月-日，如 2026-11-21（也可写 2026/11/21 或 2026年11月21日）"
    try:
        d = to_date(s)
    except (DateError, ValueError):
        d = None
    if d is None:
        why = ""
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", s)
        if m:
            y, mo, day = (int(g) for g in m.groups())
            if not 1 <= mo <= 12:
                why = f"：月份应为 1–12，这里是 {mo}"
            else:
                why = f"：{y}年{mo}月没有{day}日"
        raise argparse.ArgumentTypeError(f"「{text}」不是有效的日期{why}。{expected}。")
    if not YEAR_RANGE[0] <= d.year <= YEAR_RANGE[1]:
        raise argparse.ArgumentTypeError(f"日期「{text}」的年份超出 {YEAR_RANGE[0]}–{YEAR_RANGE[1]}，多半是输错了。{expected}。")
    return d


def _year(text: str) -> int:
    s = unicodedata.normalize("NFKC", text).strip().rstrip("年")
    lo, hi = YEAR_RANGE
    if re.fullmatch(r"\d{1,3}", s):
        raise argparse.ArgumentTypeError(f"「{text}」不是四位数的年份：请写完整的年份，如 20{int(s) % 100:02d}。")
    if not re.fullmatch(r"\d{4}", s):
        raise argparse.ArgumentTypeError(f"「{text}」不是年份：请写四位数的年份，如 2027。")
    y = int(s)
    if not lo <= y <= hi:
        raise argparse.ArgumentTypeError(f"年份 {y} 超出范围：只接受 {lo}–{hi} 年。回访计划和单据按年度生成，"
                                         f"这个范围以外的年份多半是输错了。")
    return y


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.replace("，", ",").replace("、", ",").split(",") if t.strip()]


def _rows(text: str) -> list[str]:
    items = _list(text)
    bad = [t for t in items if not (t.isdigit() and int(t) >= 1)]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"「{'、'.join(bad) or text}」不是行号：写回访计划工作表中的 Excel 行号，"
                                         "用逗号分隔，如 4,5,8。")
    return items


def _tickets(text: str) -> list[str]:
    items = _list(text)
    if not items:
        raise argparse.ArgumentTypeError("没有给出报修单号：写报修台账中的报修单号，用逗号分隔，如 BX2026-0001,BX2026-0002。")
    return items


def _notices(text: str) -> list[str]:
    out = []
    for item in _list(unicodedata.normalize("NFKC", text)):
        m = re.fullmatch(r"(.+?)\s*:\s*(\d{4})-(\d{1,2})", item)
        if not m:
            lead = (f"「{item}」缺少月份" if ":" not in item else f"「{item}」的月份写法不对")
            raise argparse.ArgumentTypeError(
                f"{lead}。每一项写成 项目编号:年-月，如 XM2024-01:2026-03，"
                "即打印项目 XM2024-01 从 2026年3月 起到期的保修部位的保修期满通知书。")
        y, mo = int(m.group(2)), int(m.group(3))
        if not 1 <= mo <= 12 or not YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
            raise argparse.ArgumentTypeError(f"「{item}」的年月无效：月份应为 1–12，年份为 {YEAR_RANGE[0]}–{YEAR_RANGE[1]}，"
                                             "如 XM2024-01:2026-03。")
        out.append(f"{m.group(1).strip()}:{y}-{mo:02d}")
    if not out:
        raise argparse.ArgumentTypeError("没有给出项目编号和月份：写成 项目编号:年-月，如 XM2024-01:2026-03。")
    return out


def _select(text: str) -> list[str]:
    from pyfuncs.jobs.forms import parse_selection

    items = _list(text)
    _, bad = parse_selection(items)
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"无法识别「{'、'.join(bad) or text}」。每一项写成以下之一：plan:年份:行号（如 plan:2026:12）、"
            "repair:报修单号（如 repair:BX2026-0001）、visit:项目编号:年-月 或 notice:项目编号:年-月"
            "（如 notice:XM2024-01:2026-03）。")
    return items


def _count(text: str) -> int:
    s = unicodedata.normalize("NFKC", text).strip()
    if not s.isdigit():
        raise argparse.ArgumentTypeError(f"「{text}」不是整数：请写 0、1、2……这样的数。")
    return int(s)


def _positive(text: str) -> int:
    s = unicodedata.normalize("NFKC", text).strip()
    if not s.isdigit() or int(s) < 1:
        raise argparse.ArgumentTypeError(f"「{text}」不是序号：写 1、2、3……（1 是最新的一份，见 --list 列出的序号）。")
    return int(s)


# ---- the parser: one function per command ---------------------------------------------------------
def _examples(*lines: str) -> str:
    return "示例：\n" + "\n".join("  " + line for line in lines)


def _path_argument(p: argparse.ArgumentParser, text: str = "工作簿文件（.xlsm），如 台账.xlsm") -> None:
    p.add_argument("path", metavar="文件", help=text)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--today", type=_today, default=None, metavar="日期",
                   help="按这一天计算（默认今天），如 2026-11-21，便于复现结果")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON 摘要（不显示进度条）")
    p.add_argument("-v", "--verbose", action="store_true", help="在标准错误输出中逐步显示进度（不是终端时也显示）")


def _add_new(sub) -> None:
    p = sub.add_parser("new", help="新建一个空白工作簿", description="新建一个空白的回访保修工作簿（.xlsm，带功能区按钮和函数）。",
                       epilog=_examples("aftercare new 回访保修台账.xlsm",
                                        "aftercare new 回访保修台账.xlsm --force   # 已存在时覆盖，旧文件先备份"))
    _path_argument(p, "要新建的工作簿文件，扩展名必须是 .xlsm")
    _common(p)
    p.add_argument("--force", action="store_true", help="文件已存在时覆盖（旧文件先备份到 .aftercare-backup）")
    p.set_defaults(func=cmd_new)


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help=f"生成示例公司数据并运行全部作业（默认 {DEMO_PATH}）",
                       description="生成一个示例公司（项目、保修条款、报修单、回访记录，固定随机种子）的工作簿，"
                                   "并依次运行全部作业。",
                       epilog=_examples("aftercare demo", "aftercare demo 示例.xlsm --projects 200 --tickets 3000",
                                        "aftercare demo --force                  # 已存在时重新生成，旧文件先备份"))
    p.add_argument("path", nargs="?", default=DEMO_PATH, metavar="文件",
                   help=f"输出的工作簿文件（默认 {DEMO_PATH}），扩展名必须是 .xlsm")
    _common(p)
    p.add_argument("--force", action="store_true", help="文件已存在时重新生成（旧文件先备份到 .aftercare-backup）")
    p.add_argument("--seed", type=_count, default=2026, metavar="数字", help="随机种子（默认 2026，结果可复现）")
    p.add_argument("--projects", type=_count, default=60, metavar="个数", help="项目数（默认 60）")
    p.add_argument("--tickets", type=_count, default=600, metavar="张数", help="报修单数（默认 600）")
    p.add_argument("--visits", type=_count, default=200, metavar="条数", help="回访记录数（默认 200）")
    p.set_defaults(func=cmd_demo)


def _add_job(sub, name: str) -> argparse.ArgumentParser:
    text = JOB_HELP[name]
    p = sub.add_parser(name, help=text, description=text + "。与功能区上同名按钮运行同一份代码。",
                       epilog=_examples(*JOB_EXAMPLES[name]))
    _path_argument(p)
    _common(p)
    p.set_defaults(func=cmd_job)
    return p


def _add_plan(sub) -> None:
    p = _add_job(sub, "plan")
    p.add_argument("--year", type=_year, default=None, metavar="年份",
                   help=f"计划年度，四位数，{YEAR_RANGE[0]}–{YEAR_RANGE[1]}（默认：--today 所在年度）")


def _add_forms(sub) -> None:
    p = _add_job(sub, "forms")
    p.add_argument("--plan-rows", type=_rows, default=[], metavar="行号",
                   help="回访计划工作表的 Excel 行号，逗号分隔，如 4,5,8（打印工程回访单）")
    p.add_argument("--tickets", type=_tickets, default=[], metavar="报修单号",
                   help="报修单号，逗号分隔，如 BX2026-0001,BX2026-0002（打印保修/维修单）")
    p.add_argument("--notices", type=_notices, default=[], metavar="项目编号:年-月",
                   help="项目编号和月份，如 XM2024-01:2026-03（打印该项目从这个月起到期部位的保修期满通知书）")
    p.add_argument("--select", type=_select, default=[], metavar="项",
                   help="直接给出要打印的项，如 plan:2026:12,repair:BX2026-0001,visit:XM2024-01:2026-03")
    p.add_argument("--year", type=_year, default=None, metavar="年份",
                   help="--plan-rows 所在的回访计划年度（默认：--today 所在年度）")
    p.add_argument("--out", default=None, metavar="文件夹",
                   help="把每张单据另存为单独的 .xlsx 文件放到这个文件夹（默认：写入工作簿的工作表）")
    p.add_argument("--pdf", default=None, metavar="PDF文件",
                   help="再把这次生成的单据打印成一个 PDF 文件，如 本月回访单.pdf（需要安装 LibreOffice；"
                        "不能与 --out 同用）")


def _add_check(sub) -> None:
    p = _add_job(sub, "check")
    p.add_argument("--sheet", action="store_true", help="同时把结果写入“检查结果”工作表（会保存工作簿）")
    p.add_argument("--all", action="store_true", help=f"列出全部问题（默认最多列出 {MAX_LISTED} 条）")


def _days(text: str) -> int:
    s = unicodedata.normalize("NFKC", text).strip().removesuffix("天")
    if not s.isdigit() or not 1 <= int(s) <= 366:
        raise argparse.ArgumentTypeError(f"「{text}」不是天数：请写 1 到 366 之间的整数，如 7。")
    return int(s)


def _add_todo(sub) -> None:
    p = _add_job(sub, "todo")
    p.add_argument("--days", type=_days, default=7, metavar="天数", help="列出未来多少天内的事项（默认 7 天）")
    p.add_argument("--person", default=None, metavar="姓名",
                   help="只列出这个人的事项（回访负责人、计划负责人或维修人员），如 张三")


def _add_project(sub) -> None:
    p = _add_job(sub, "project")
    p.add_argument("projects", nargs="*", metavar="项目编号",
                   help="要生成档案的项目编号，可写多个，如 XM2024-01（再次生成时替换同名工作表）")


def _add_restore(sub) -> None:
    p = sub.add_parser("restore", help="列出工作簿的备份并恢复其中一份（默认最新的一份）",
                       description="列出工作簿的备份（最新在前，含时间和大小），并把其中一份恢复为当前文件。\n"
                                   "恢复前当前文件会先备份，所以再运行一次 restore 就能撤销这次恢复。\n"
                                   "工作簿在 Excel 中打开时拒绝恢复。",
                       epilog=_examples("aftercare restore 台账.xlsm --list      # 只列出备份",
                                        "aftercare restore 台账.xlsm             # 恢复最新的一份",
                                        "aftercare restore 台账.xlsm --pick 3    # 恢复列表中的第 3 份"))
    _path_argument(p, "要恢复的工作簿文件（备份在它旁边的 .aftercare-backup 文件夹中）")
    p.add_argument("--pick", type=_positive, default=1, metavar="序号", help="恢复第几份备份（1 为最新，默认 1）")
    p.add_argument("--list", action="store_true", help="只列出备份，不恢复")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    p.set_defaults(func=cmd_restore)


def _add_configure(sub) -> None:
    p = sub.add_parser("configure", help="把本机 Python 路径写入工作簿的 xlwings.conf 工作表",
                       description="把本机 Python 解释器的路径写入工作簿的 xlwings.conf 工作表，"
                                   "让 Excel 中的按钮和函数找到 Python。每个工作簿做一次，Excel 中不要打开该文件。",
                       epilog=_examples("aftercare configure 台账.xlsm",
                                        r"aftercare configure 台账.xlsm --interpreter C:\Python311\pythonw.exe"))
    _path_argument(p)
    p.add_argument("--interpreter", default=None, metavar="路径",
                   help="Python 解释器的完整路径（默认：当前 Python，Windows 上用 pythonw.exe）")
    p.add_argument("--pythonpath", default=None, metavar="文件夹", help="pyfuncs 所在的文件夹（默认：自动判断）")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    p.set_defaults(func=cmd_configure)


def _add_setup(sub) -> None:
    p = sub.add_parser("setup", help="Windows 上的安装设置：写入 Python 路径、检查 xlwings DLL、解除下载标记、加入受信任位置",
                       description="在 Windows 上为工作簿做好运行准备：把本机 Python 路径写入 xlwings.conf，检查 xlwings 的 DLL，"
                                   "解除文件的下载标记，把工作簿所在文件夹加入 Excel 的受信任位置，并列出还需要做的事。",
                       epilog=_examples("aftercare setup                              # 文档\\aftercare\\aftercare.xlsm，没有则新建",
                                        "aftercare setup 台账.xlsm",
                                        "aftercare setup 台账.xlsm --no-trust          # 不加入受信任位置"))
    p.add_argument("paths", nargs="*", metavar="工作簿", help="工作簿文件（默认：文档\\aftercare\\aftercare.xlsm，没有则新建）")
    p.add_argument("--no-trust", action="store_true", help="不把工作簿所在文件夹加入 Excel 的受信任位置")
    p.add_argument("--no-unblock", action="store_true", help="不解除工作簿的下载标记")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    p.set_defaults(func=lambda args: importlib.import_module("pyfuncs.setup_windows").run_command(args))


def _add_rollup(sub) -> None:
    p = sub.add_parser("rollup", help=ROLLUP_HELP, description=ROLLUP_HELP + "。只读取，不改动任何工作簿。",
                       epilog=_examples("aftercare rollup 各分公司台账 集团汇总.xlsx",
                                        "aftercare rollup D:\\台账 汇总.xlsx --today 2026-11-21 --json"))
    p.add_argument("folder", metavar="文件夹", help="存放各分公司/区域工作簿的文件夹（包括其中的子文件夹）")
    p.add_argument("out", metavar="汇总文件", help="汇总结果文件（.xlsx；已存在的汇总结果会被替换，旧文件先备份）")
    _common(p)
    p.set_defaults(func=cmd_rollup)


#: the commands, in the order ``aftercare -h`` lists them
COMMANDS: list[Callable[[Any], None]] = [
    _add_new, _add_demo, _add_plan,
    lambda sub: _add_job(sub, "refresh"), lambda sub: _add_job(sub, "visits"), lambda sub: _add_job(sub, "report"),
    _add_forms, _add_check, lambda sub: _add_job(sub, "selftest"), _add_todo, _add_project,
    _add_restore, _add_configure, _add_setup, _add_rollup,
    lambda sub: _add_job(sub, "cases"),
]


def build_parser() -> ArgumentParser:
    from pyfuncs import __version__

    ap = ArgumentParser(
        prog=PROG,
        description="回访保修：工程回访与保修台账。在没有 Excel 的电脑上对工作簿文件运行与功能区按钮相同的作业。",
        epilog=_examples("aftercare demo                               # 生成示例工作簿 aftercare-demo.xlsm",
                         "aftercare new 台账.xlsm",
                         "aftercare refresh 台账.xlsm --today 2026-11-21",
                         "aftercare plan 台账.xlsm --year 2027",
                         "aftercare forms 台账.xlsm --tickets BX2026-0001",
                         "aftercare forms 台账.xlsm --notices XM2024-01:2026-03",
                         "aftercare restore 台账.xlsm                  # 恢复上一版")
        + "\n\n每个命令的说明和示例：aftercare 命令 -h（如 aftercare plan -h）。\n"
          "退出码：0 完成；1 数据检查发现错误或自检有失败项；2 文件被拒绝、磁盘已满或参数有误；3 程序出错。")
    ap.add_argument("--version", action="version", version=f"{PROG}（回访保修）{__version__}",
                    help="显示版本号并退出")
    sub = ap.add_subparsers(dest="command", metavar="命令", title="命令", parser_class=ArgumentParser,
                            help="下列命令之一")
    sub.required = True
    for add in COMMANDS:
        add(sub)
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


def _progress(args):
    """The progress display for a command: a bar on a terminal, lines with --verbose, nothing
    under --json."""
    from pyfuncs.progress import NoProgress, ProgressBar

    verbose = getattr(args, "verbose", False)
    if getattr(args, "json", False):
        return ProgressBar(sys.stderr, enabled=False, lines=True) if verbose else NoProgress()
    return ProgressBar(sys.stderr, lines=verbose)


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
        extra = {"strict": True}
        if args.out:
            extra["out"] = args.out
    if args.command == "check":
        extra = {"sheet": bool(args.sheet)}
    if args.command == "todo":
        extra = {"days": args.days, "person": args.person}
    if args.command == "project":
        selection, extra = list(args.projects), {"strict": True}
    return JobOptions(today=today, year=getattr(args, "year", None) or today.year, selection=selection, extra=extra)


def load_job(name: str):
    """The job module ``pyfuncs.jobs.<name>`` (imported only when used)."""
    return importlib.import_module(f"pyfuncs.jobs.{name}")


def require_ours(book, name: str) -> None:
    """Refuse a workbook that is not an aftercare workbook (:func:`pyfuncs.schema.is_ours`: it
    lacks most of the sheets every one has): one rule for every job command. One of ours that lacks
    a sheet is worked on; the jobs report the missing sheet."""
    from pyfuncs.io.safe import Refused
    from pyfuncs.schema import is_ours, missing_sheets

    names = book.sheet_names()
    if is_ours(names):
        return
    listed = "".join(f"「{s}」" for s in missing_sheets(names))
    raise Refused(f"「{name}」不是回访保修工作簿，缺少工作表{listed}。"
                  "请打开正确的文件，或用 aftercare new 新建回访保修工作簿（如果这些工作表被改了名，请改回原名）。"
                  "文件未改动。")


@dataclass
class FileRun:
    """What :func:`run_on_file` did: the job's result, whether the file was saved, and where the
    previous version was backed up."""

    result: Any
    saved: bool = False
    backup: Path | None = None


def run_on_file(name: str, path: str | Path, opts, *, verbose: bool = False, save: bool = True,
                progress=None) -> FileRun:
    """Open ``path`` (locked; refused unless it is an aftercare workbook), run job ``name``, save
    when it changed anything. ``progress`` (a :class:`~pyfuncs.progress.ProgressBar`) is told
    each step: opening, the job's own steps, saving."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.progress import NoProgress

    bar = progress or NoProgress()
    bar.update(0.0, "打开工作簿")
    with FileBook.open(path, verbose=verbose and progress is None) as book:
        require_ours(book, Path(path).name)
        book.on_progress = bar.steps(0.05, 0.9)
        if name == "selftest":
            result = selftest_result(importlib.import_module("pyfuncs.selftest").run_selftest(book, today=opts.today))
        else:
            result = load_job(name).run(book, opts)
        run = FileRun(result)
        if opts.extra.get("strict") and not result.ok:
            return run  # a wrong argument: nothing is written
        if save and book.dirty:
            bar.update(0.9, "保存工作簿")
            book.set_status("保存中…")
            run.backup = book.save()
            run.saved = True
    bar.update(1.0, "完成")
    return run


def run_job_on_file(name: str, path: str | Path, opts, *, verbose: bool = False, save: bool = True):
    """Open ``path`` (locked), run job ``name``, save when it changed anything; returns the result."""
    return run_on_file(name, path, opts, verbose=verbose, save=save).result


def selftest_result(report):
    """A 自检 report as a JobResult (its failed checks as problems)."""
    from pyfuncs.jobs import JobResult, Problem

    result = JobResult("selftest")
    result.summary = {"ok": report.ok, **report.counts()}
    result.messages.append(f"自检完成：{report.summary()}（详见“自检结果”工作表）")
    for c in report.checks:
        if c.result == "失败":
            result.problems.append(Problem("自检结果", None, c.category, f"{c.name}：{c.detail}"))
    return result


def run_selftest(path, opts):
    """自检 on a file (the same as ``aftercare selftest``): opens, locks and saves it."""
    return run_job_on_file("selftest", path, opts)


def _backup_line(path: Path, backup: Path | None) -> str:
    if backup is None:
        return ""
    return f"已保存。原来的版本备份在：{backup}（要撤销，运行 aftercare restore {path}）"


def _check_pdf_args(args) -> Path | None:
    """``forms --pdf``: the PDF's path, refused before anything is written when it cannot be made."""
    from pyfuncs.io.pdf import NO_LIBREOFFICE, soffice
    from pyfuncs.io.safe import Refused

    pdf = getattr(args, "pdf", None)
    if not pdf:
        return None
    pdf = Path(pdf)
    if getattr(args, "out", None):
        raise Refused("--pdf 与 --out 不能同时使用：--pdf 打印写入工作簿的单据工作表。工作簿未改动。")
    if pdf.suffix.lower() != ".pdf":
        raise Refused(f"「{pdf.name}」：--pdf 的文件名应以 .pdf 结尾。工作簿未改动。")
    if soffice() is None:
        raise Refused(NO_LIBREOFFICE + "工作簿未改动。")
    return pdf


def _print_pdf(path: Path, result, pdf: Path, args) -> int:
    """Print the form sheets the job wrote into one PDF (LibreOffice)."""
    from pyfuncs.io.pdf import PdfError, export_pdf

    sheets = list(result.summary.get("forms") or [])
    if not sheets:
        _err("没有生成表单，没有写 PDF。")
        return EXIT_OK
    try:
        export_pdf(path, sheets, pdf)
    except PdfError as e:
        _err(f"表单已写入工作簿，但 PDF 没有生成：{e}")
        return EXIT_REFUSED
    result.summary["pdf"] = str(pdf)
    if not args.json:
        print(f"已打印 {len(sheets)} 份表单到 PDF：{pdf}")
    return EXIT_OK


def cmd_job(args) -> int:
    path = Path(args.path)
    opts = job_options(args)
    pdf = _check_pdf_args(args)
    with _progress(args) as bar:
        run = run_on_file(args.command, path, opts, verbose=args.verbose, progress=bar)
    result = run.result
    code = EXIT_OK
    if pdf is not None and result.ok and run.saved:
        code = _print_pdf(path, result, pdf, args)
    print_result(result, args, path, saved=run.saved, backup=run.backup)
    if run.saved and not args.json:
        print(_backup_line(path, run.backup))
    if opts.extra.get("strict") and not result.ok:
        _err("所选的项目中有错误，没有生成任何档案，工作簿未改动。" if args.command == "project"
             else "所选的项中有错误，没有生成任何表单，工作簿未改动。")
        return EXIT_REFUSED
    if code != EXIT_OK:
        return code
    if args.command in ("check", "selftest") and not result.ok:
        return EXIT_PROBLEMS
    return EXIT_OK


def _macro_workbook_name(path: Path) -> None:
    """A new workbook carries macros (the ribbon's VBA): Excel opens such a file only as .xlsm."""
    from pyfuncs.io.safe import Refused

    if path.suffix.lower() != ".xlsm":
        raise Refused(f"「{path.name}」：回访保修工作簿带有宏（功能区按钮和函数要用到），必须保存为 .xlsm 文件；"
                      f"Excel 不会打开扩展名为 {path.suffix or '（无）'} 的带宏工作簿。请改用「{path.stem}.xlsm」。")


def _may_replace(path: Path, force: bool, what: str) -> None:
    """``new`` and ``demo`` alike: an existing file is replaced only with --force (backed up first)."""
    from pyfuncs.io.safe import Refused, check_file, check_writable

    if path.exists() or path.is_symlink():
        if not force:
            raise Refused(f"文件已存在：{path}（{what}请加 --force，旧文件会先备份到 .aftercare-backup）")
        check_file(path)
        check_writable(path)


def cmd_new(args) -> int:
    from pyfuncs.io.safe import job_lock, safe_save

    path = Path(args.path)
    _macro_workbook_name(path)
    _may_replace(path, args.force, "如要覆盖")
    build = importlib.import_module("pyfuncs.build")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _progress(args) as bar:
        bar.update(0.0, "生成工作簿")
        with job_lock(path):
            backup = safe_save(path, lambda tmp: build.build_workbook(tmp))
    if args.json:
        print(json.dumps(_jsonable({"job": "new", "ok": True, "path": str(path), "backup": backup}), ensure_ascii=False))
    else:
        print(f"已新建工作簿：{path}")
        if backup is not None:
            print(_backup_line(path, backup))
    return EXIT_OK


def cmd_demo(args) -> int:
    path = Path(args.path)
    _macro_workbook_name(path)
    _may_replace(path, args.force, "如要重新生成")
    demo = importlib.import_module("pyfuncs.demo")
    today = args.today or dt.date.today()
    before = _backup_names(path)
    with _progress(args) as bar:
        out = demo.make_demo(path, today=today, seed=args.seed, n_projects=args.projects,
                             n_tickets=args.tickets, n_visits=args.visits, verbose=False,
                             on_progress=bar.steps(0.0, 1.0))
    backup = next((p for p in _backup_names(path) if p not in before), None)
    if args.json:
        print(json.dumps(_jsonable({**out, "backup": backup}), ensure_ascii=False, indent=1))
    else:
        for line in out["lines"]:
            print(line)
        if backup is not None:
            print(_backup_line(path, backup))
    return EXIT_OK


def _backup_names(path: Path) -> list[Path]:
    from pyfuncs.io.safe import backup_files

    return [p for p, _ in backup_files(path)]


def cmd_restore(args) -> int:
    from pyfuncs.io.backups import list_backups, listing, restore

    path = Path(args.path)
    backups = list_backups(path)
    if args.json and args.list:
        print(json.dumps(_jsonable({"job": "restore", "ok": True, "path": str(path),
                                    "backups": [b.__dict__ for b in backups]}), ensure_ascii=False, indent=1))
        return EXIT_OK
    if not args.json:
        if backups:
            print(f"「{path.name}」的备份（共 {len(backups)} 份，最新在前；“备份于”是这一版被作业保存替换的时间）：")
            for line in listing(backups):
                print("  " + line)
        else:
            print(f"「{path.name}」还没有备份。")
    if args.list:
        return EXIT_OK
    done = restore(path, args.pick)
    if args.json:
        print(json.dumps(_jsonable({"job": "restore", "ok": True, "path": str(path), "restored": done.source.__dict__,
                                    "backup": done.previous, "backups": [b.__dict__ for b in backups]}),
                         ensure_ascii=False, indent=1))
        return EXIT_OK
    print(f"已把第 {done.source.number} 份备份（备份于 {done.source.time:%Y-%m-%d %H:%M:%S}）恢复为「{path}」。")
    if done.previous is not None:
        print(f"恢复前的文件已备份为：{done.previous}（再运行一次 aftercare restore {path} 即可撤销这次恢复）")
    return EXIT_OK


# ---- rollup: a folder of workbooks → one summary (pyfuncs.rollup) ---------------------------------
ROLLUP_HELP = "集团汇总：把文件夹（含子文件夹）中各分公司的工作簿汇总到一个新的 .xlsx 工作簿（只读取，不改动原文件）"


def cmd_rollup(args) -> int:
    rollup = importlib.import_module("pyfuncs.rollup")
    with _progress(args) as bar:
        def progress(i: int, n: int, name: str) -> None:
            bar.update((i - 1) / max(n, 1), f"读取 {name}（{i}/{n}）")

        result = rollup.rollup(args.folder, args.out, today=args.today, progress=progress)
    if args.json:
        print(json.dumps(_jsonable({"job": "rollup", "ok": True, **result.summary}), ensure_ascii=False, indent=1))
    else:
        for line in result.messages:
            print(line)
    return EXIT_OK


def cmd_configure(args) -> int:
    from pyfuncs.io.filebook import FileBook

    with FileBook.open(args.path, lock=False) as book:
        require_ours(book, Path(args.path).name)
    conf = importlib.import_module("pyfuncs.configure")
    written = conf.configure_workbook(args.path, interpreter=args.interpreter, pythonpath=args.pythonpath)
    if args.json:
        print(json.dumps({"job": "configure", "ok": True, "written": written}, ensure_ascii=False))
    else:
        for k, v in written.items():
            print(f"{k} = {v}")
        print(f"已写入「{Path(args.path).name}」的 xlwings.conf 工作表。")
    return EXIT_OK


def _unchanged(args) -> str:
    """「（工作簿未改动）」 where there is a workbook to speak of."""
    path = getattr(args, "path", None)
    try:
        exists = bool(path) and Path(path).is_file()
    except OSError:
        exists = False
    return "工作簿未改动。" if exists else ""


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
        return args.func(args)
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
        _err("已中断。" + _unchanged(args))
        return EXIT_REFUSED
    except Exception as e:  # noqa: BLE001
        _err(f"程序出错：{type(e).__name__}: {e}" + (f"（{_unchanged(args).rstrip('。')}）" if _unchanged(args) else ""))
        if getattr(args, "verbose", False):
            traceback.print_exc()
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
