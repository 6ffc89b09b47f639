"""Training runs: exact resume after a stop, checkpoints refused when corrupt or pickled."""

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from neuralc.cli.main import main

TINY = ["arithmetic-basic", "--tokenizer", "bpe", "--hidden", "32", "--train-size", "48",
        "--test-size", "16", "--batch-size", "16", "--no-progress", "--seed", "3"]


def _run(capsys, *argv):
    rc = main(["train", *TINY, *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


def test_stop_and_resume_equals_uninterrupted(runs, capsys):
    a, b = str(runs / "a"), str(runs / "b")
    rc, out, _ = _run(capsys, "--epochs", "2", "--out", a)
    assert rc == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["epochs"] == 2 and "test_accuracy" in summary
    assert _run(capsys, "--epochs", "2", "--out", b, "--stop-after", "1")[0] == 0
    with open(os.path.join(b, "metrics.json")) as f:
        assert json.load(f)[-1]["epoch"] == 1
    rc, out, err = _run(capsys, "--epochs", "2", "--resume", b)
    assert rc == 0, err
    ta, tb = (load_file(os.path.join(d, "checkpoint.safetensors")) for d in (a, b))
    assert set(ta) == set(tb)
    for k in ta:  # model and optimizer state: bit-identical
        if not k.startswith("rng."):
            assert torch.equal(ta[k], tb[k]), k
    assert any(k.startswith("optim.") for k in ta) and any(".computer." in k for k in ta)
    for name in ("metrics.json", "curves.png", "config.json", "model.safetensors"):
        assert os.path.exists(os.path.join(b, name))


def _trained(tmp_path, capsys) -> str:
    """A run of its own (xdist may run a test apart from the one that trained ``runs``)."""
    d = str(tmp_path / "run")
    assert _run(capsys, "--epochs", "1", "--out", d)[0] == 0
    return d


def test_corrupt_and_pickled_checkpoints_are_refused(tmp_path, capsys):
    d = _trained(tmp_path, capsys)
    ckpt = os.path.join(d, "checkpoint.safetensors")
    with open(ckpt, "wb") as f:
        f.write(b"\x00garbage, not safetensors")
    rc, _, err = _run(capsys, "--epochs", "3", "--resume", d)
    assert rc == 2 and err.startswith("neuralc: error:") and "corrupt" in err
    os.remove(ckpt)
    torch.save({"x": 1}, os.path.join(d, "checkpoint.pt"))
    rc, _, err = _run(capsys, "--epochs", "3", "--resume", d)
    assert rc == 2 and "not a safetensors checkpoint" in err


def test_predict_refuses_a_corrupt_model(tmp_path, capsys):
    d = _trained(tmp_path, capsys)
    assert main(["predict", d, "Add 3 and 4", "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(res) >= {"answer", "programs", "inputs", "halted"}
    assert res["programs"][0][0] in ("calc_add", "calc_sub", "calc_mul")
    with open(os.path.join(d, "model.safetensors"), "r+b") as f:
        f.write(b"\xff" * 16)
    assert main(["predict", d, "Add 3 and 4"]) == 2
    assert capsys.readouterr().err.startswith("neuralc: error:")
