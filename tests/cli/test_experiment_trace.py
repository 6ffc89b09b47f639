"""``neuralc experiment`` and ``neuralc trace`` from the command line."""

from __future__ import annotations

import json

from neuralc.cli.main import main


def test_experiment_prints_one_json_line_and_writes_files(tmp_path, capsys):
    out = tmp_path / "adapt"
    rc = main(["experiment", "adapt", "--quick", "--seed", "1", "--out", str(out),
               "--set", "steps_train=3"])
    assert rc == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    head = json.loads(last)
    assert head["experiment"] == "adapt" and head["seed"] == 1 and head["quick"] is True
    assert (out / "metrics.json").exists() and (out / "adapt.png").exists()
    assert json.loads((out / "config.json").read_text())["steps_train"] == 3


def test_experiment_bad_input_is_one_error_line(tmp_path, capsys):
    assert main(["experiment", "nope"]) == 2
    assert main(["experiment", "adapt", "--quick", "--out", str(tmp_path),
                 "--set", "bogus=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("neuralc: error:") for line in err)
    assert "bogus" in err[-1]


def test_trace_writes_a_png_for_sharp_and_soft_runs(tmp_path, capsys):
    src = tmp_path / "count.asm"
    src.write_text(".n 8\n.registers 3\n.memory 1\nloop:\n    inc r0 r0\n    ne r0 r1 r2\n"
                   "    jump r2 loop\n    halt\n")
    png = tmp_path / "t.png"
    rc = main(["trace", str(src), "--reg", "r1=3", "--soft", "0.5", "-o", str(png)])
    assert rc == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert info["steps"][0] == 10 and info["halted"][0] == 1.0  # 3 loops of 3 steps + halt
    assert len(info["steps"]) == 2


def test_trace_refuses_bad_options(tmp_path, capsys):
    src = tmp_path / "h.asm"
    src.write_text("halt\n")
    assert main(["trace", str(src), "--soft", "0", "-o", str(tmp_path / "x.png")]) == 2
    assert main(["trace", str(src), "--show", "r99", "-o", str(tmp_path / "x.png")]) == 2
    assert main(["trace", str(tmp_path / "missing.asm")]) == 2
