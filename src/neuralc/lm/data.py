"""The data of a run: a user's JSON-lines files, checked before anything trains, and the
train / validation / test splits of every run.

A data file holds one JSON object per line, ``{"text": STRING, "answer": INT}`` or
``{"text": STRING, "answer": [INT, ...]}``, values in ``0..n-1``; other fields are ignored
(no program or input labels are used). Blank lines are skipped (their numbers still count).
Every bad line of every file is collected and reported at once as ``FILE:LINE: error: MESSAGE``
(:class:`DataError`, exit status 2) before a model is built or a folder written.

The protocol (:class:`Splits`): the tokenizer and every choice of a run (epochs, options, the
checkpoint kept) come from ``train`` and ``validation``; ``test`` is a :class:`SealedSplit` that
refuses to be read until the run unseals it, once, after its last training step.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..lang.asm.assembler import read_source
from ..lang.errors import CompileError, UsageError
from .tasks import Example, Task

__all__ = [
    "DataError",
    "SealedSplit",
    "Splits",
    "answer_labels",
    "encode_examples",
    "hold_out",
    "is_list",
    "padded_labels",
    "read_data",
    "read_files",
    "task_splits",
    "user_splits",
]

VALIDATION_FRACTION = 0.1  # of the training file, when no validation file is given


class DataError(CompileError):
    """Bad lines of data files (and of a library), each ``FILE:LINE: error: MESSAGE``."""

    def __init__(self, lines: list[str]):
        self.diagnostics, self.filename, self._lines = [], "<data>", list(lines)
        Exception.__init__(self, "\n".join(self._lines))

    def lines(self, filename: str | None = None) -> list[str]:
        return list(self._lines)


def is_list(example: Example) -> bool:
    """Whether the answer is a list (a tuple) or one value (an int)."""
    return isinstance(example.answer, tuple)


def _type_name(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number with a fraction", str: "a string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")


def _value_problem(v, n: int) -> str | None:
    """Why ``v`` is not a value in ``0..n-1`` (None when it is one)."""
    if isinstance(v, bool) or not isinstance(v, int):  # bool is an int subclass in Python
        return f"is {_type_name(v)} ({json.dumps(v)}); expected an integer"
    if not 0 <= v < n:
        return f"{v} is out of range 0..{n - 1}"
    return None


def _answer(value, n: int) -> tuple[int | tuple[int, ...], str] | str:
    """``(answer, group)`` of a valid answer (an int, or a tuple for a list), else the error
    message."""
    if isinstance(value, list):
        if not value:
            return '"answer" is an empty list'
        for v in value:
            why = _value_problem(v, n)
            if why:
                return f'"answer" list value {why}'
        return tuple(value), f"len={len(value)}"
    why = _value_problem(value, n)
    if why:
        return f'"answer" {why}'
    return value, "scalar"


def _line(raw: str, n: int) -> Example | str:
    """One non-blank line as an :class:`Example`, else the error message."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as e:
        return f"invalid JSON: {e.msg} (column {e.colno})"
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {_type_name(obj)}"
    missing = [k for k in ("text", "answer") if k not in obj]
    if missing:
        return "missing field " + " and ".join(f'"{k}"' for k in missing)
    text = obj["text"]
    if not isinstance(text, str):
        return f'"text" is {_type_name(text)}; expected a string'
    if not text.strip():
        return '"text" is empty'
    answer = _answer(obj["answer"], n)
    if isinstance(answer, str):
        return answer
    values, group = answer
    return Example(text, values, program="", inputs=(), template=0, group=group)


def read_data(path: str, n: int = 128) -> tuple[list[Example], list[str]]:
    """``(examples, errors)`` of one data file; ``errors`` are ``FILE:LINE: error: ...`` lines.

    A missing or unreadable file raises :class:`UsageError` (no place in a file)."""
    examples, errors = [], []
    lines = read_source(path).splitlines()
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        got = _line(raw, n)
        if isinstance(got, str):
            errors.append(f"{path}:{number}: error: {got}")
        else:
            examples.append(got)
    if not examples and not errors:
        errors.append(f"{path}:1: error: empty file (no examples)")
    return examples, errors


def read_files(paths: Sequence[str | None], n: int = 128,
               more_errors: Sequence[str] = ()) -> list[list[Example] | None]:
    """Each file's examples (None for a path not given); raises :class:`DataError` with every
    bad line of every file, in order, followed by ``more_errors`` (e.g. the library's)."""
    for p in paths:  # every missing file first: nothing else is worth reading then
        if p is not None:
            read_source(p)
    out, errors = [], []
    for p in paths:
        if p is None:
            out.append(None)
            continue
        examples, errs = read_data(p, n)
        out.append(examples)
        errors += errs
    errors += list(more_errors)
    if errors:
        raise DataError(errors)
    return out


class SealedSplit(Sequence):
    """The test split: its size is known, its examples can be read only after :meth:`unseal`.

    The training code unseals it once, after the last training step of a run; a read before
    that raises, so no choice of the run can depend on the test examples."""

    def __init__(self, examples: list[Example]):
        self._examples = list(examples)
        self.sealed = True

    def unseal(self) -> list[Example]:
        self.sealed = False
        return self._examples

    def _check(self) -> None:
        if self.sealed:
            raise RuntimeError("the test split was read before the end of the run")

    def __len__(self) -> int:
        return len(self._examples)

    def __getitem__(self, i):
        self._check()
        return self._examples[i]

    def __iter__(self) -> Iterator[Example]:
        self._check()
        return iter(self._examples)


@dataclass
class Splits:
    """The three splits of a run. The tokenizer is built from ``train`` texts only."""

    train: list[Example]
    validation: list[Example]
    test: SealedSplit | None


def hold_out(examples: list[Example], seed: int, fraction: float = VALIDATION_FRACTION,
             name: str = "the training file") -> tuple[list[Example], list[Example]]:
    """``(train, validation)``: a seeded ``fraction`` (at least one example) held out."""
    if len(examples) < 2:
        raise UsageError(f"{name} has {len(examples)} example: too few to hold out a validation "
                         "part (give --validation)")
    k = min(len(examples) - 1, max(1, round(fraction * len(examples))))
    order = list(range(len(examples)))
    random.Random(f"validation:{seed}").shuffle(order)
    held = set(order[:k])
    return ([e for i, e in enumerate(examples) if i not in held],
            [e for i, e in enumerate(examples) if i in held])


def user_splits(train: str, validation: str | None, test: str | None, seed: int, n: int = 128,
                more_errors: Sequence[str] = ()) -> Splits:
    """The splits of a run on a user's files (every file checked first, :func:`read_files`)."""
    tr, va, te = read_files([train, validation, test], n, more_errors)
    if va is None:
        tr, va = hold_out(tr, seed, name=train)
    return Splits(tr, va, SealedSplit(te) if te is not None else None)


def task_splits(task: Task, seed: int, train_size: int | None = None,
                validation_size: int | None = None, test_size: int | None = None) -> Splits:
    """The splits of a built-in task.

    ``train`` is the task's training split; ``validation`` its own seeded stream (training
    combinations, the training phrasings and one validation-only phrasing per form, no text
    shared with ``train``), so that a choice about phrasings never seen can be made without the
    test split; ``test`` the task's test split (held-out combinations and phrasings), sealed."""
    n_train = train_size if train_size is not None else task.train_size
    n_val = validation_size if validation_size is not None else max(1, n_train // 8)
    tr = task.make_split("train", seed, n_train)
    seen = {e.text for e in tr}
    size = 2 * n_val
    while True:  # a stream's prefix never changes with its length
        va = [e for e in task.make_split("validation", seed, size) if e.text not in seen][:n_val]
        if len(va) == n_val or size > 64 * n_val:
            break
        size *= 2
    return Splits(tr, va, SealedSplit(task.make_split("test", seed, test_size)))


def answer_labels(answer, outputs: int, n: int = 128) -> list[int]:
    """The labels of one answer in the model's ``outputs`` slots
    (:func:`neuralc.lm.calls.answer_labels`: the kind, the value or the list's length, the
    elements). A list longer than the model's lists keeps its true length and its first
    elements: the model cannot answer it, and it counts as wrong."""
    from .calls import answer_labels as labels

    room = outputs - 2
    if isinstance(answer, tuple) and len(answer) > room:
        return [1, min(len(answer), n - 1), *answer[:room]][:outputs]
    return labels(answer, outputs)


def padded_labels(examples: Sequence[Example], outputs: int):
    """``(B, outputs)`` labels (:func:`answer_labels`; ``IGNORE`` past each answer)."""
    import torch

    return torch.tensor([answer_labels(e.answer, outputs) for e in examples], dtype=torch.long)


def encode_examples(tok, examples: Sequence[Example], outputs: int,
                    max_length: int | None = None):
    """``(input_ids, attention_mask, labels)`` tensors, right padding (``max_length``: pad and
    cut every text to that many tokens); labels as :func:`padded_labels`."""
    enc = tok([e.text for e in examples], padding="max_length" if max_length else True,
              max_length=max_length, truncation=bool(max_length), return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"], padded_labels(examples, outputs)
