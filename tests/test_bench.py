"""The benchmark script runs and prints every figure (timings are never asserted here)."""
import importlib.util

from pyfuncs import bench


def test_bench_prints_every_figure(capsys):
    assert bench.main(["--rows", "500", "--udf-rows", "300", "--callbacks", "10", "--projects", "4", "--tickets", "12"]) == 0
    out, _, com = capsys.readouterr().out.partition("Excel 中的作业")
    lines = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    # per job case (refresh next morning, refresh of a typed ledger, plan again): time vs openpyxl,
    # time vs the floor, Python memory and (where the platform reports it) a child process's peak RSS
    per_job = 3 if importlib.util.find_spec("resource") else 2
    rollup = 4 + (per_job - 2)  # time, CPU time, time per workbook, Python memory (+ a child's peak RSS)
    todo = 2  # building the 待办 sheet, the whole job
    assert len(lines) == 2 + 6 + 3 + 3 * (per_job + 1) + todo + rollup  # core, udfs, AC_CALLBACKS and plan_visits, jobs, todo, rollup
    assert sum("进程常驻内存峰值" in line for line in lines) == 4 * (per_job - 2)
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[1]) >= 0 and float(cells[2]) >= 0 and float(cells[3]) > 0, line  # tiny sizes round to 0.000 s
    assert sum("下限" in line for line in lines) == 3
    assert "机器" in out
    # COM round trips in Excel: counted (whole numbers), ours and the old xlwings-Range book's
    com_lines = [line for line in com.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(com_lines) == 4
    for line in com_lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        ours, base = int(cells[1].replace(",", "")), int(cells[2].replace(",", ""))
        assert 0 < ours < base, line


def test_growth_compares_each_job_at_two_sizes(capsys):
    """--only growth: per job case, how its time grew against the floor's, and job vs floor at the
    large size (no openpyxl baseline there)."""
    assert bench.main(["--only", "growth", "--projects", "3", "--tickets", "8", "--growth-factor", "2"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(lines) == 6
    assert sum("耗时增长" in line for line in lines) == 3 and sum("vs 下限" in line for line in lines) == 3
    assert all("6 个项目、16 张报修单" in line for line in lines)
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0 and float(cells[3]) > 0, line
    assert "openpyxl" not in out
