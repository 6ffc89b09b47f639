"""The benchmark command runs end to end on a tiny size and writes what it promises (the
numbers themselves are measured by `neuralc bench`, not asserted here)."""

from __future__ import annotations

import json

import pytest
import torch

from neuralc.bench import bench_alu, format_report
from neuralc.cli.main import main


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()  # `--threads 1` changes the process-wide setting
    yield
    torch.set_num_threads(threads)


def test_bench_command_writes_json_and_markdown(tmp_path, capsys):
    status = main(["bench", "--quick", "--sizes", "8,12", "--reps", "3", "--threads", "1",
                   "--no-machine", "--memory", "sampled", "--out", str(tmp_path)])
    assert status == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    cells = {(r["alu"], r["n"]): r for r in report["alu"]}
    assert cells[("sparse", 8)]["status"] == "ok" and cells[("sparse", 8)]["fwd_bwd_ms"] > 0
    assert cells[("circuit", 12)]["status"] == "refused"  # n not a power of two
    assert "power of two" in cells[("circuit", 12)]["note"]
    assert report["ratios"][0]["dense_over_sparse"] > 0
    # growth from the smallest size (no 128 here), and outputs checked against dense
    assert report["ratios"][0]["base_n"] == 8 and report["ratios"][0]["sparse_over_base"] == 1
    assert cells[("sparse", 12)]["max_diff_vs_dense"] < 1e-5
    md = (tmp_path / "bench.md").read_text()
    assert md == format_report(report) and "| 8 |" in md and "Growth" in md
    assert "dense ÷ sparse" in capsys.readouterr().out


def test_dense_that_does_not_fit_is_reported_not_built():
    row = bench_alu("dense", 1024, reps=3, memory="off")
    assert row.status == "refused" and "--alu sparse" in row.note and row.fwd_bwd_ms is None


@pytest.mark.parametrize("argv", [["bench", "--sizes", "1"], ["bench", "--sizes", "a,b"],
                                  ["bench", "--device", "tpu"], ["bench", "--batch", "0"]])
def test_bad_options_are_usage_errors(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralc: error:") and "Traceback" not in err


def test_memory_probe_in_a_fresh_process():
    from neuralc.bench.alu import _probe_in_subprocess

    probe = _probe_in_subprocess("dense", 32, 32, torch.float32)
    # the dense lookup's (B, A_t·N²) outer product alone is 2.4 MiB
    assert probe["peak_mib"] > 1 and probe["own_mib"] > 2
