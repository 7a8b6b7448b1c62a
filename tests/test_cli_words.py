"""The command line speaks Chinese: every help text and error of every command, argparse's own words
included, and bad arguments get one clear answer (what is expected, with a real example)."""
from __future__ import annotations

import argparse
import re

import pytest

from pyfuncs.cli import JOB_HELP, build_parser, main

#: English argparse phrases (Python 3.11–3.14) that must never reach a user
ARGPARSE_ENGLISH = ("usage", "positional arguments", "optional arguments", "options:", "show this help",
                    "message and exit", "the following arguments are required", "invalid choice", "error:",
                    "unrecognized arguments", "expected one argument", "invalid int value", "argument ",
                    "did you mean", "maybe you meant", "choose from", "version number")
#: ASCII words a Chinese user may see: the program, its commands, product and format names
ALLOWED_WORDS = {"aftercare", "Excel", "JSON", "Python", "xlwings", "conf", "pyfuncs", "pythonw", "YYYY",
                 "plan", "repair", "visit", "notice", "Windows", "PATH", "DLL", "Linux", "PDF", "LibreOffice"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _option_strings() -> set[str]:
    out = {"-h", "--help", "--version"}
    for p in _commands().values():
        out |= {o for a in p._actions for o in a.option_strings}
    return out


def english_words(text: str, typed: list[str] = ()) -> list[str]:
    """ASCII words in ``text`` other than what the user ``typed`` (echoed back), option names,
    command names, file names, the example numbers (XM2024-01, BX2026-0001) and
    :data:`ALLOWED_WORDS`."""
    t = text
    for word in typed:
        t = t.replace(f"「{word}」", " ")
    for opt in sorted(_option_strings(), key=len, reverse=True):
        t = re.sub(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", " ", t)
    t = re.sub(r"[\w.\\:/-]*\.(?:xlsm|xlsx|exe|conf|pdf)\b|\.aftercare-backup", " ", t)  # file names
    t = re.sub(r"\b[A-Z]{2}\d{4}-\d+\b", " ", t)  # XM2024-01, BX2026-0001
    t = re.sub(r"\b[A-Z]:\\\S*", " ", t)  # C:\Python311\...
    allowed = ALLOWED_WORDS | set(_commands())
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]+", t) if w not in allowed]


def _run(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_scanner_would_catch_argparse_english(capsys):
    """Not vacuous: a stock argparse parser's help and errors are full of what we look for."""
    plain = argparse.ArgumentParser(prog="aftercare")
    plain.add_argument("path")
    text = plain.format_help()
    with pytest.raises(SystemExit):
        plain.parse_args([])
    text += capsys.readouterr().err
    assert {"usage", "positional", "arguments", "options", "show", "help", "following", "required"} <= set(
        english_words(text))


def _every_output(capsys) -> dict[str, tuple[list[str], str]]:
    """Help and error output of the program and of every command: {label: (argv, output)}."""
    runs = [["-h"], ["--version"], ["refersh", "a.xlsm"], ["--bogus"], []]
    for name, parser in _commands().items():
        runs += [[name, "-h"], [name, "a.xlsm", "--nope"]]
        if name != "demo":  # demo's path is optional
            runs.append([name])
        for a in parser._actions:
            if a.option_strings and a.type is not None:  # every typed option with a bad value
                runs.append([name, "a.xlsm", a.option_strings[-1], "x?"])
            elif a.option_strings and a.nargs is None and not isinstance(
                    a, (argparse._StoreTrueAction, argparse._HelpAction, argparse._VersionAction)):
                runs.append([name, "a.xlsm", a.option_strings[-1]])  # its value missing
    return {" ".join(argv) or "(nothing)": (argv, _run(capsys, argv)[1]) for argv in runs}


def test_every_help_and_error_is_chinese(capsys):
    outputs = _every_output(capsys)
    assert len(outputs) > 40
    for what, (argv, text) in outputs.items():
        assert text.strip(), what
        low = text.lower()
        for phrase in ARGPARSE_ENGLISH:
            assert phrase not in low, f"{what}: {phrase!r} in\n{text}"
        words = english_words(text, argv)
        assert not words, f"{what}: English words {words} in\n{text}"
        assert re.search(r"[\u4e00-\u9fff]", text), f"{what}: no Chinese at all:\n{text}"


def test_every_command_and_option_has_chinese_help():
    parser = build_parser()
    commands = _commands()
    assert set(JOB_HELP) | {"new", "demo", "restore", "configure"} <= set(commands)
    for p in [parser, *commands.values()]:
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for choice in a._choices_actions:
                    assert re.search(r"[\u4e00-\u9fff]", choice.help or ""), choice.dest
                continue
            assert a.help and a.help is not argparse.SUPPRESS, f"{p.prog} {a.option_strings or a.dest}"
            assert re.search(r"[\u4e00-\u9fff]", a.help), f"{p.prog} {a.option_strings or a.dest}"
    for name, p in commands.items():
        assert p.description and p.epilog and p.epilog.startswith("示例："), name
        assert f"aftercare {name}" in p.epilog


def test_examples_use_the_real_number_formats():
    text = build_parser().format_help() + _commands()["forms"].format_help()
    assert "XM2024-01:2026-03" in text and "BX2026-0001" in text
    assert "P001" not in text and "P1:" not in text


def test_a_mistyped_command_or_option_gets_a_suggestion(capsys):
    code, text = _run(capsys, ["refersh", "a.xlsm"])
    assert code == 2 and "没有「refersh」这个命令" in text and "您是不是要输入 refresh" in text
    code, text = _run(capsys, ["plan", "a.xlsm", "--yaer", "2027"])
    assert code == 2 and "没有选项「--yaer」" in text and "您是不是要输入 --year" in text
    assert "用法：aftercare plan" in text  # the usage of the command that was meant


def test_help_columns_line_up_with_chinese_metavars():
    from pyfuncs.progress import display_width

    lines = [ln for ln in _commands()["forms"].format_help().splitlines() if ln.startswith("  --")]
    starts = set()
    for ln in lines:
        m = re.match(r"(  \S+(?: \S+)?\s{2,})\S", ln)
        if m:
            starts.add(display_width(m.group(1)))
    assert len(starts) == 1, lines  # one help column, measured on screen


# ---- bad arguments: one clear answer, nothing written -----------------------------------------------
@pytest.mark.parametrize("year, words", [("26", "不是四位数的年份"), ("202", "不是四位数的年份"), ("1999", "2000–2100"),
                                         ("2101", "2000–2100"), ("二〇二七", "不是年份")])
def test_year_must_have_four_digits_in_range(capsys, year, words):
    code, text = _run(capsys, ["plan", "a.xlsm", "--year", year])
    assert code == 2 and words in text
    assert "如 20" in text or "多半是输错了" in text  # says what is expected, or why not


def test_years_2000_to_2100_are_accepted():
    p = build_parser()
    for y in ("2000", "2026", "2099", "2100"):
        assert p.parse_args(["plan", "a.xlsm", "--year", y]).year == int(y)


def test_a_bad_date_is_explained_once_with_the_format(capsys):
    code, text = _run(capsys, ["refresh", "a.xlsm", "--today", "2026-13-01"])
    assert code == 2
    assert text.count("2026-13-01") == 1 and "月份应为 1–12" in text and "年-月-日" in text and "2026-11-21" in text
    code, text = _run(capsys, ["refresh", "a.xlsm", "--today", "2026-02-30"])
    assert code == 2 and "2026年2月没有30日" in text
    code, text = _run(capsys, ["refresh", "a.xlsm", "--today", "昨天"])
    assert code == 2 and "不是有效的日期" in text and "年-月-日" in text


def test_notice_without_a_month_is_explained(capsys):
    code, text = _run(capsys, ["forms", "a.xlsm", "--notices", "XM2024-01"])
    assert code == 2
    assert "「XM2024-01」缺少月份" in text and "项目编号:年-月" in text and "XM2024-01:2026-03" in text
    assert "notice:" not in text  # not the job's internal syntax
    code, text = _run(capsys, ["forms", "a.xlsm", "--notices", "XM2024-01:2026-13"])
    assert code == 2 and "月份应为 1–12" in text
    # the full-width colon a Chinese keyboard types is fine
    args = build_parser().parse_args(["forms", "a.xlsm", "--notices", "XM2024-01：2026-3"])
    assert args.notices == ["XM2024-01:2026-03"]


def test_plan_rows_and_select_and_pick_are_checked(capsys):
    code, text = _run(capsys, ["forms", "a.xlsm", "--plan-rows", "4,五"])
    assert code == 2 and "不是行号" in text and "4,5,8" in text
    code, text = _run(capsys, ["forms", "a.xlsm", "--select", "plan:2026"])
    assert code == 2 and "plan:2026:12" in text and "repair:BX2026-0001" in text
    code, text = _run(capsys, ["restore", "a.xlsm", "--pick", "0"])
    assert code == 2 and "不是序号" in text


def test_argparse_is_left_as_it_was():
    """The Chinese words are scoped to our parser: argparse's hooks are restored afterwards."""
    before = argparse._
    build_parser().format_help()
    assert argparse._ is before
    assert "usage:" in argparse.ArgumentParser(prog="x").format_usage()
