"""Requests and answers for the example libraries, as JSON lines ({"text": ..., "answer": ...}).

    python examples/library/make_data.py functions OUT_DIR   # functions.py: six two-input functions
    python examples/library/make_data.py lists OUT_DIR       # lists.py: largest, smallest, total

writes OUT_DIR/train.jsonl, validation.jsonl and test.jsonl. The answers are computed by plain
Python (mod 128), not by neuralc; the files hold no program or input labels. The test requests
use operand combinations that neither training nor validation use.
"""

import json
import os
import random
import sys

N = 128

FUNCTIONS = {
    "difference": (lambda a, b: abs(a - b), [
        "What is the difference between {a} and {b}?",
        "How far apart are {a} and {b}?",
        "Distance from {a} to {b}",
        "{a} and {b}: how far is one from the other?",
    ]),
    "larger": (max, [
        "Which is larger, {a} or {b}?",
        "What is the bigger of {a} and {b}?",
        "The maximum of {a} and {b}",
        "Pick the greater number: {a}, {b}",
    ]),
    "smaller": (min, [
        "Which is smaller, {a} or {b}?",
        "What is the lesser of {a} and {b}?",
        "The minimum of {a} and {b}",
        "Pick the lower number: {a}, {b}",
    ]),
    "weighted": (lambda a, b: (3 * a + b) % N, [
        "Three times {a} plus {b}",
        "What is three times {a}, plus {b}?",
        "Triple {a} and add {b}.",
        "Add {b} to triple {a}.",
    ]),
    "remainder": (lambda a, b: a % b, [
        "What is the remainder of {a} divided by {b}?",
        "{a} modulo {b}",
        "Divide {a} by {b}: what is left over?",
        "Remainder when {a} is divided by {b}",
    ]),
    "half_sum": (lambda a, b: a // 2 + b // 2, [
        "Halve {a} and {b} and add the halves.",
        "What is half of {a} plus half of {b}?",
        "Half {a} plus half {b}, rounding down",
        "Add half of {b} to half of {a}.",
    ]),
}

LISTS = {
    "largest": (max, [
        "What is the largest of {xs}?",
        "Find the maximum of {xs}.",
        "Which is the biggest number in {xs}?",
        "Largest value among {xs}",
    ]),
    "smallest": (min, [
        "What is the smallest of {xs}?",
        "Find the minimum of {xs}.",
        "Which is the lowest number in {xs}?",
        "Smallest value among {xs}",
    ]),
    "total": (lambda xs: sum(xs) % N, [
        "What is the sum of {xs}?",
        "Add up {xs}.",
        "Total of {xs}",
        "What do {xs} add up to?",
    ]),
}


def _listing(xs, rng) -> str:
    """ "3, 8 and 5" or "3, 8, 5" """
    if len(xs) > 1 and rng.random() < 0.5:
        return ", ".join(map(str, xs[:-1])) + " and " + str(xs[-1])
    return ", ".join(map(str, xs))


def _draw(kind: str, rng: random.Random):
    if kind == "functions":
        name = rng.choice(sorted(FUNCTIONS))
        fn, templates = FUNCTIONS[name]
        a, b = rng.randrange(N), rng.randrange(1 if name == "remainder" else 0, N)
        key = (name, a, b)
        return key, rng.choice(templates).format(a=a, b=b), fn(a, b)
    name = rng.choice(sorted(LISTS))
    fn, templates = LISTS[name]
    xs = [rng.randrange(N) for _ in range(rng.randint(2, 6))]
    return (name, *xs), rng.choice(templates).format(xs=_listing(xs, rng)), fn(xs)


def main(kind: str, out: str, train: int = 3000, validation: int = 300, test: int = 500,
         seed: int = 0) -> None:
    rng = random.Random(f"{kind}:{seed}")
    os.makedirs(out, exist_ok=True)
    seen: set = set()
    splits = {"train": train, "validation": validation, "test": test}
    for split, size in splits.items():
        rows = []
        while len(rows) < size:
            key, text, answer = _draw(kind, rng)
            if split == "test" and key in seen:
                continue  # a test request never repeats a training or validation combination
            if split != "test":
                seen.add(key)
            rows.append({"text": text, "answer": answer})
        with open(os.path.join(out, f"{split}.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("functions", "lists"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
