"""The evaluation protocol of every run: the tokenizer is built from training text only; the
test split is read once, after the last training step; a run resumed alone continues with its
saved options, bit-exactly."""

import json
import os

import torch
from safetensors.torch import load_file

from neuralc.cli.main import main
from neuralc.lm import build
from neuralc.lm.data import SealedSplit, task_splits
from neuralc.lm.tasks import get_task

TASK = "arithmetic-basic"
SIZES = {"seed": 3, "train": 48, "validation": 12, "test": 16}
ARGS = [TASK, "--tokenizer", "bpe", "--hidden", "32", "--train-size", "48",
        "--validation-size", "12", "--test-size", "16", "--batch-size", "16", "--seed", "3"]


def _run(capsys, *argv):
    rc = main(["train", *argv])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def test_the_tokenizer_sees_training_text_only(tmp_path, capsys, monkeypatch):
    seen: list[str] = []
    real = build.train_bpe_tokenizer

    def spy(texts, *a, **k):
        seen.extend(texts)
        return real(texts, *a, **k)

    monkeypatch.setattr(build, "train_bpe_tokenizer", spy)
    _run(capsys, *ARGS, "--epochs", "1", "--out", str(tmp_path / "r"))
    s = task_splits(get_task(TASK), SIZES["seed"], SIZES["train"], SIZES["validation"],
                    SIZES["test"])
    train = {e.text for e in s.train}
    held = {e.text for e in s.validation} | {e.text for e in s.test.unseal()}
    assert set(seen) == train
    assert held and not set(seen) & (held - train)


def test_the_test_split_is_read_once_after_the_last_step(tmp_path, capsys, monkeypatch):
    steps, reads = [0], []
    step = torch.optim.AdamW.step

    def counting_step(self, *a, **k):
        steps[0] += 1
        return step(self, *a, **k)

    unseal = SealedSplit.unseal

    def recording_unseal(self):
        reads.append(steps[0])
        return unseal(self)

    monkeypatch.setattr(torch.optim.AdamW, "step", counting_step)
    monkeypatch.setattr(SealedSplit, "unseal", recording_unseal)
    out = tmp_path / "r"
    summary, err = _run(capsys, *ARGS, "--epochs", "2", "--out", str(out))
    assert reads == [summary["steps"]] == [steps[0]] and steps[0] > 0
    assert summary["test_accuracy"] is not None and summary["validation_accuracy"] is not None
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics) == 2 and all("validation_accuracy" in m for m in metrics)
    assert not any(k.startswith("test") for m in metrics for k in m)  # per epoch: validation
    assert json.loads((out / "test.json").read_text())["epoch"] == 2
    assert "test accuracy" not in err

    # a process stopped before the end of its run (as if killed) never reads the test split
    reads.clear()
    summary, _ = _run(capsys, *ARGS, "--epochs", "2", "--stop-after", "1", "--out",
                      str(tmp_path / "k"))
    assert reads == [] and summary["test_accuracy"] is None


def test_resume_alone_continues_with_the_saved_options(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    options = [*ARGS, "--epochs", "3", "--lr", "0.004", "--batch-size", "8"]
    full, _ = _run(capsys, *options, "--out", str(a))
    _run(capsys, *options, "--stop-after", "1", "--out", str(b))
    resumed, _ = _run(capsys, "--resume", str(b))  # no TASK, no options
    assert resumed["epochs"] == 3 and resumed["steps"] == full["steps"] == 3 * (48 // 8)
    assert json.loads((b / "run.json").read_text())["lr"] == 0.004
    ta, tb = (load_file(os.path.join(d, "checkpoint.safetensors")) for d in (a, b))
    assert all(torch.equal(ta[k], tb[k]) for k in ta if not k.startswith("rng."))
    assert resumed["test_accuracy"] == full["test_accuracy"]

    assert not resumed["test_seen_before"]  # resumed from a kill: still one schedule
    extended, err = _run(capsys, "--resume", str(b), "--epochs", "4")  # typed: overrides
    assert extended["epochs"] == 4 and extended["steps"] == 4 * 6
    # the test was scored at the end of 3 epochs: a 4-epoch score is not a one-schedule number
    assert extended["test_seen_before"] and "not a one-schedule result" in err
    assert json.loads((b / "test.json").read_text())["test_seen_before"]
    again, _ = _run(capsys, "--resume", str(b))
    assert again["test_seen_before"]  # and it stays marked


def test_early_stopping_and_the_kept_weights_come_from_validation(tmp_path, capsys):
    out = tmp_path / "r"
    summary, _ = _run(capsys, *ARGS, "--epochs", "8", "--lr", "0.02", "--keep", "best",
                      "--patience", "1", "--out", str(out))
    metrics = json.loads((out / "metrics.json").read_text())

    def best(rows):  # highest validation accuracy, then lowest validation loss, then earliest
        return max(rows, key=lambda m: (m["validation_accuracy"], -m["validation_loss"],
                                        -m["epoch"]))["epoch"]

    # it stopped at the first epoch that was not the best so far (patience 1), or at the end
    ends = [e for e in range(1, len(metrics) + 1) if best(metrics[:e]) < e]
    assert len(metrics) == (ends[0] if ends else 8)
    assert summary["stopped"] == ("early stopping" if ends else None)
    kept = best(metrics)
    assert summary["kept_epoch"] == kept == json.loads((out / "test.json").read_text())["epoch"]
    # the model folder holds the kept weights, and the test was scored on them
    model, best_w = (load_file(str(out / f)) for f in ("model.safetensors", "best.safetensors"))
    assert all(torch.equal(model[k], best_w[k]) for k in model)
    again, _ = _run(capsys, "--resume", str(out))  # an early-stopped run has ended
    assert again["epochs"] == len(metrics) and again["test_accuracy"] == summary["test_accuracy"]


def test_a_data_run_resumes_from_another_directory(tmp_path, capsys, monkeypatch):
    rows = [{"text": f"The larger of {a} and {b}", "answer": max(a, b)}
            for a, b in zip(range(0, 60, 3), range(50, 10, -2))]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.chdir(tmp_path / "d")
    _run(capsys, "--data", "train.jsonl", "--library", "calc_max", "--tokenizer", "bpe",
         "--hidden", "32", "--epochs", "2", "--stop-after", "1", "--out", "../run")
    monkeypatch.chdir(tmp_path)
    resumed, _ = _run(capsys, "--resume", "run")
    assert resumed["epochs"] == 2 and resumed["train_examples"] == 18
