"""A user's data files: every bad line of every file reported as ``FILE:LINE: error: ...``
before anything is built or written; the splits of a run (held-out validation, sealed test)."""

import json

import pytest

from neuralc.cli.main import main
from neuralc.lm.data import SealedSplit, hold_out, read_data, task_splits, user_splits
from neuralc.lm.tasks import get_task

GOOD = '{"text": "Add 1 and 2", "answer": 3}'

# (line, what its error message says)
BAD = [
    ('{"text": "Add 1 and 2", "answer": 3', "invalid JSON"),
    ('{"answer": 3}', 'missing field "text"'),
    ('{"text": "Add 1 and 2"}', 'missing field "answer"'),
    ('{"text": 5, "answer": 3}', '"text" is an integer; expected a string'),
    ('{"text": "  ", "answer": 3}', '"text" is empty'),
    ('{"text": "x", "answer": true}', '"answer" is a boolean'),
    ('{"text": "x", "answer": 3.5}', '"answer" is a number with a fraction'),
    ('{"text": "x", "answer": "3"}', '"answer" is a string'),
    ('{"text": "x", "answer": null}', '"answer" is null'),
    ('{"text": "x", "answer": [[1]]}', '"answer" list value is a list'),
    ('{"text": "x", "answer": [1, false]}', '"answer" list value is a boolean'),
    ('{"text": "x", "answer": []}', '"answer" is an empty list'),
    ('{"text": "x", "answer": 128}', '"answer" 128 is out of range 0..127'),
    ('{"text": "x", "answer": -1}', '"answer" -1 is out of range 0..127'),
    ('{"text": "x", "answer": [4, 200]}', '"answer" list value 200 is out of range'),
    ('[1, 2]', "expected a JSON object"),
]


def _train(tmp_path, capsys, *argv):
    out = tmp_path / "out"
    rc = main(["train", *argv, "--out", str(out), "--tokenizer", "bpe", "--hidden", "32",
               "--no-progress"])
    o, e = capsys.readouterr()
    return rc, o, e, out


@pytest.mark.parametrize(("line", "message"), BAD, ids=[m for _, m in BAD])
def test_each_bad_line_is_reported_with_its_line_and_nothing_is_written(tmp_path, capsys, line,
                                                                         message):
    data = tmp_path / "train.jsonl"
    data.write_text(f"{GOOD}\n\n{GOOD}\n{line}\n{GOOD}\n")  # line 2 blank: still counted
    rc, out, err, folder = _train(tmp_path, capsys, "--data", str(data))
    assert rc == 2 and out == ""
    assert err.splitlines() == [f"{data}:4: error: " + err.split(": error: ", 1)[1].strip()]
    assert message in err and "Traceback" not in err
    assert not folder.exists()


def test_every_bad_line_of_every_file_in_order(tmp_path, capsys):
    train, val, test = (tmp_path / f"{n}.jsonl" for n in ("train", "val", "test"))
    train.write_text(f"{GOOD}\n{BAD[1][0]}\n{GOOD}\n{BAD[12][0]}\n")
    val.write_text("")
    test.write_text(f"{BAD[0][0]}\n{GOOD}\n{BAD[5][0]}\n")
    rc, _out, err, folder = _train(tmp_path, capsys, "--data", str(train), "--validation",
                                  str(val), "--test", str(test))
    assert rc == 2 and not folder.exists()
    places = [line.split(": error: ")[0] for line in err.splitlines()]
    assert places == [f"{train}:2", f"{train}:4", f"{val}:1", f"{test}:1", f"{test}:3"]
    assert "empty file" in err.splitlines()[2]


def test_a_library_that_does_not_compile_is_reported_with_the_data(tmp_path, capsys):
    lib = tmp_path / "lib.py"
    lib.write_text("def f(a, b):\n    return a + b\n\ndef g(a):\n    return a.real\n")
    data = tmp_path / "train.jsonl"
    data.write_text(f"{GOOD}\n{BAD[2][0]}\n")
    rc, _out, err, folder = _train(tmp_path, capsys, "--data", str(data), "--library", str(lib))
    lines = err.splitlines()
    assert rc == 2 and not folder.exists() and len(lines) >= 2
    assert lines[0].startswith(f"{data}:2: error: ")
    assert lines[1].startswith(f"{lib}:5:") and ": error: " in lines[1]


def test_missing_file_and_bad_combinations_are_usage_errors(tmp_path, capsys):
    rc, _, err, folder = _train(tmp_path, capsys, "--data", str(tmp_path / "no.jsonl"))
    assert rc == 2 and err.startswith("neuralc: error: ") and "no such file" in err
    assert not folder.exists()
    data = tmp_path / "t.jsonl"
    data.write_text(GOOD + "\n")
    rc, _, err, _ = _train(tmp_path, capsys, "arithmetic", "--data", str(data))
    assert rc == 2 and "not both" in err
    rc, _, err, _ = _train(tmp_path, capsys)
    assert rc == 2 and "--resume DIR" in err


def test_lines_become_examples(tmp_path):
    data = tmp_path / "d.jsonl"
    rows = [{"text": "Add 1 and 2", "answer": 3, "program": "ignored"},
            {"text": "Sort 3, 1", "answer": [1, 3], "inputs": [3, 1]}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples, errors = read_data(str(data))
    assert errors == []
    assert [(e.text, e.answer, e.group) for e in examples] == [
        ("Add 1 and 2", 3, "scalar"), ("Sort 3, 1", (1, 3), "len=2")]
    assert all(e.program == "" and e.inputs == () for e in examples)  # no labels are used


def test_held_out_validation_is_seeded_and_disjoint(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": f"t{i}", "answer": i}) + "\n"
                            for i in range(40)))
    a = user_splits(str(data), None, None, seed=1)
    b = user_splits(str(data), None, None, seed=1)
    c = user_splits(str(data), None, None, seed=2)
    assert [e.text for e in a.validation] == [e.text for e in b.validation]
    assert [e.text for e in a.validation] != [e.text for e in c.validation]
    assert len(a.validation) == 4 and len(a.train) == 36 and a.test is None
    assert not {e.text for e in a.train} & {e.text for e in a.validation}
    with pytest.raises(Exception, match="too few"):
        hold_out(a.train[:1], 0)


def test_the_test_split_is_sealed_until_unsealed():
    split = task_splits(get_task("arithmetic-basic"), 0, 32, 8, 8).test
    assert isinstance(split, SealedSplit) and len(split) == 8  # its size is no secret
    for read in (lambda s: list(s), lambda s: s[0], lambda s: [e for e in s]):
        with pytest.raises(RuntimeError, match="before the end of the run"):
            read(split)
    assert len(split.unseal()) == 8 and split[0] is not None


def test_task_validation_is_new_text_with_its_own_unseen_phrasings():
    """Validation: new text on training combinations, the training phrasings and phrasings of
    its own that neither training nor the test split ever shows (so a choice about unseen
    phrasings needs no test example); the test split's held-out phrasings stay there."""
    from neuralc.lm.tasks import BINARY_TEMPLATES, UNARY_TEMPLATES

    task = get_task("arithmetic-basic")
    s = task_splits(task, 3, 256, 400, 400)
    assert s.train == task.make_split("train", 3, 256)  # training data as before
    assert len(s.validation) == 400
    assert not {e.text for e in s.train} & {e.text for e in s.validation}
    test = s.test.unseal()
    phrasing = {(len(e.inputs), e.template) for e in s.validation}
    family = {1: UNARY_TEMPLATES, 2: BINARY_TEMPLATES}
    unseen = {k for k in phrasing if family[k[0]][k[1]].validation}
    assert unseen and all(e.held_out_template == ((len(e.inputs), e.template) in unseen)
                          for e in s.validation)
    assert not any(family[k[0]][k[1]].held_out for k in phrasing)
    assert not any(family[len(e.inputs)][e.template].validation for e in test)
    assert not any(family[len(e.inputs)][e.template].validation or
                   family[len(e.inputs)][e.template].held_out for e in s.train)
