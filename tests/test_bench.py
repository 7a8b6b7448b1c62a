"""The benchmark script runs and prints every figure (timings are never asserted here)."""
from pyfuncs import bench


def test_bench_prints_every_figure(capsys):
    assert bench.main(["--rows", "500", "--udf-rows", "300", "--projects", "4", "--tickets", "12"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(lines) == 2 + 6 + 4
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[1]) >= 0 and float(cells[2]) >= 0 and float(cells[3]) > 0, line  # tiny sizes round to 0.000 s
    assert "机器" in out
