"""``neuralc train --data`` and ``neuralc evaluate`` on a user's JSON-lines files: a 40-line
file trains through the command line (loss falls, validation held out, test scored once);
``evaluate`` writes one prediction per line, in order; output stays free of progress bars."""

import contextlib
import io
import json
import random

import pytest

from neuralc.cli.main import main

TINY = ["--tokenizer", "bpe", "--hidden", "32", "--batch-size", "8"]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _larger_smaller(k: int, seed: int):
    rng = random.Random(seed)
    rows = []
    for i in range(k):
        a, b = rng.randrange(128), rng.randrange(128)
        word, fn = ("larger", max) if i % 2 else ("smaller", min)
        rows.append({"text": f"The {word} of {a} and {b}", "answer": fn(a, b), "id": i})
    return rows


def _cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("user")
    train = _write(d / "train.jsonl", _larger_smaller(40, 0))
    test = _write(d / "test.jsonl", _larger_smaller(12, 1))
    out = str(d / "model")
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = main(["train", "--data", train, "--test", test, "--library", "calc_min,calc_max",
                   "--epochs", "10", "--lr", "0.01", "--out", out, *TINY])
    assert rc == 0, se.getvalue()
    return d, out, json.loads(so.getvalue().strip().splitlines()[-1]), se.getvalue()


def test_a_40_line_file_trains_and_is_scored_at_the_end(trained):
    d, _out, summary, err = trained
    metrics = json.loads((d / "model" / "metrics.json").read_text())
    assert metrics[-1]["train_loss"] < 0.75 * metrics[0]["train_loss"]  # it learns
    assert summary["train_examples"] == 36 and summary["validation_examples"] == 4
    assert summary["test_examples"] == 12 and 0 <= summary["test_accuracy"] <= 1
    assert "validation_accuracy" in summary and summary["task"] is None
    assert "\r" not in err and "it/s" not in err  # no bar frames when nobody watches


def test_evaluate_writes_one_prediction_per_line_in_order(trained, capsys):
    d, out, _, _ = trained
    rows = _larger_smaller(9, 2)
    data = _write(d / "eval.jsonl", rows)
    pred = d / "pred.jsonl"
    rc, stdout, err = _cli(capsys, "evaluate", out, data, "--predictions", str(pred))
    assert rc == 0, err
    got = [json.loads(line) for line in pred.read_text().splitlines()]
    assert [g["text"] for g in got] == [r["text"] for r in rows]
    assert all(isinstance(g["prediction"], int) and g["program"] in ("calc_min", "calc_max")
               and 0 <= g["program_probability"] <= 1 for g in got)
    assert all(g["correct"] == (g["prediction"] == r["answer"]) for g, r in zip(got, rows))
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["accuracy"] == sum(g["correct"] for g in got) / len(got)
    assert "Loading weights" not in err + stdout and "\r" not in err


def test_evaluate_refuses_bad_data_and_writes_nothing(trained, capsys):
    d, out, _, _ = trained
    data = d / "bad.jsonl"
    data.write_text('{"text": "The larger of 1 and 2", "answer": 2}\n{"text": "x"}\n'
                    '{"text": "y", "answer": 999}\n')
    pred = d / "never.jsonl"
    rc, stdout, err = _cli(capsys, "evaluate", out, str(data), "--predictions", str(pred))
    assert rc == 2 and stdout == "" and not pred.exists()
    assert [line.split(": error: ")[0] for line in err.splitlines()] == [f"{data}:2", f"{data}:3"]


def test_a_list_library_predicts_lists(tmp_path, capsys):
    rng = random.Random(0)
    rows = []
    for _ in range(16):
        xs = [rng.randrange(128) for _ in range(rng.randrange(2, 6))]
        rows.append({"text": "Sort " + ", ".join(map(str, xs)), "answer": sorted(xs)})
    data = _write(tmp_path / "sort.jsonl", rows)
    out = str(tmp_path / "m")
    rc, _, err = _cli(capsys, "train", "--data", data, "--library", "sort_network", "--epochs",
                      "1", "--out", out, *TINY)
    assert rc == 0, err
    pred = tmp_path / "p.jsonl"
    assert _cli(capsys, "evaluate", out, data, "--predictions", str(pred))[0] == 0
    got = [json.loads(line) for line in pred.read_text().splitlines()]
    assert len(got) == len(rows)
    for g, r in zip(got, rows):  # a list of the length the model read, never the truth's
        assert isinstance(g["prediction"], list) and g["answer"] == r["answer"]
        assert all(isinstance(x, int) for x in g["prediction"])
        assert g["correct"] == (g["prediction"] == r["answer"])


@pytest.fixture
def hugging_face_bars(monkeypatch):
    """Hugging Face's progress bars on, as in a user's environment without the off switch (the
    suite's conftest sets it); the CLI must turn them off itself."""
    import warnings

    from transformers.utils import logging

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    with warnings.catch_warnings():  # huggingface_hub read the switch at import: only it warns
        warnings.simplefilter("ignore", UserWarning)
        logging.enable_progress_bar()
    yield
    logging.disable_progress_bar()


def test_evaluate_a_built_in_task_model_with_no_bar_frames(tmp_path, capsys, hugging_face_bars):
    """train, evaluate and predict on a built-in task's model; stderr is not a terminal, so
    neither the epoch bar nor Hugging Face's "Loading weights" / "Writing model shards" bars
    write a frame."""
    out = str(tmp_path / "m")
    rc, _, err = _cli(capsys, "train", "arithmetic-basic", "--train-size", "32", "--test-size",
                      "8", "--epochs", "1", "--out", out, *TINY)
    assert rc == 0, err
    data = _write(tmp_path / "d.jsonl", [{"text": "Add 3 and 4", "answer": 7},
                                          {"text": "Multiply 5 and 6", "answer": 30}])
    rc, stdout, err2 = _cli(capsys, "evaluate", out, data)
    assert rc == 0, err2
    assert set(json.loads(stdout.strip().splitlines()[-1])) >= {"accuracy", "examples"}
    rc, stdout3, err3 = _cli(capsys, "predict", out, "Add 3 and 4")
    assert rc == 0 and "answer:" in stdout3, err3
    for text in (err, err2, stdout, err3, stdout3):
        assert "\r" not in text and "it/s" not in text and "Loading weights" not in text


def test_a_file_smaller_than_one_batch_trains(tmp_path, capsys):
    data = _write(tmp_path / "tiny.jsonl", _larger_smaller(6, 3))
    rc, out, err = _cli(capsys, "train", "--data", data, "--library", "calc_min,calc_max",
                        "--epochs", "2", "--batch-size", "16", "--out", str(tmp_path / "m"),
                        *TINY[:4])
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["train_examples"] == 5 and summary["steps"] == 2  # one batch of 5 per epoch


@pytest.mark.parametrize("argv", [["predict", "m", "Add 3 and 4"], ["evaluate", "m", "d.jsonl"],
                                  ["demo"]])
def test_every_model_command_takes_its_device_from_one_default(argv, monkeypatch):
    """``$NEURALC_DEVICE`` is the device of train, evaluate, predict and demo alike when
    ``--device`` is not given; ``--device`` wins."""
    from neuralc.cli.main import build_parser
    from neuralc.cli.train import options_from_args

    monkeypatch.setenv("NEURALC_DEVICE", "cuda:1")
    parser, _ = build_parser(argv)
    assert parser.parse_args(argv).device == "cuda:1"
    assert parser.parse_args(argv + ["--device", "cpu"]).device == "cpu"
    parser, _ = build_parser(["train", "arithmetic"])
    assert options_from_args(parser.parse_args(["train", "arithmetic"])).device == "cuda:1"
