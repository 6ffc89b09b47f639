"""Natural-language tasks for a language model that calls the compiled library (docs/DESIGN.md §11).

Every task is deterministic given its seed. An :class:`Example` carries the request text, the
answer (one value in ``0..n-1`` per output slot) and, for reporting only, the program that solves
it and the values it should parse — the model is never supervised on those, only on ``answer``.

Splits (``make_split``) hold out **operand combinations** (a combination is in the test set iff a
seeded hash puts it there, so no test combination is ever seen in training) **and** one phrasing
of each form per family, which appears in the test split only. The validation split has held-out
phrasings of its own (``V``), one per form, which neither training nor the test split shows: a
choice about phrasings never seen is made on them, never on the test split's.

Phrasings (:class:`Phrasing`: a template and its *form*). ``{a}``, ``{b}`` are the operands, ``{d}``
the depth, ``{xs}`` a comma-separated list and ``{k}`` its length, ``{q}`` a number that is no
operand (any value in ``1..n-1``); the op words come from :data:`OP_WORDS`. Forms: ``in order``
(the operands in argument order), ``reversed`` (text order differs from argument order: "With 3 as
the second number and 10 as the first …" is ``op(10, 3)``), ``distractor`` (a number that is not an
operand). A request draws its form uniformly, then a phrasing of that form. Each family holds
out one phrasing of each form for the test split (``*``) and one for the validation split
(``V``); those splits draw their held-out phrasing of the form with probability
:data:`UNSEEN_SHARE`. Training phrasings::

    arithmetic, binary ops
       {Verb} {a} and {b} · What is {a} {sym} {b}? · Compute the {noun} of {a} and {b}. ·
       {a} {sym} {b} = ?
    R  Given b = {b} and a = {a}, what is a {sym} b? · The second number is {b} and the first is
       {a}. What is their {noun}? · a verb that reverses by itself (:data:`REVERSING_VERBS`:
       "Subtract {b} from {a}", "Add {b} to {a}", ...; "With {b} as the second number and {a}
       as the first, compute the {noun}." for ops without one)
    ·R "{Cue}, compute the {noun}." and "Compute the {noun}, {cue}." for each role cue
       (:data:`ROLE_CUES`: "with {a} as the first number and {b} as the second", "the first
       number is {a} and the second is {b}", "first number {a}, second number {b}", and the
       same three reversed: in order or R)
    *  What is the {noun} of {a} and {b}?
    *R Take {b} as the second number and {a} as the first: what is their {noun}?
    *D Problem {q}: what is {a} {sym} {b}?
    V  Find the {noun} of {a} and {b}.
    VR Let the second number be {b} and the first be {a}; give the {noun}.
    VD Item {q}) compute {a} {sym} {b}.

    arithmetic, unary ops (inc, dec, not)
       {Verb} {a} · What is {a} {sym}? · Compute the {noun} of {a}. · {a} {sym} = ?
    *  What is the {noun} of {a}?            V  Find the {noun} of {a}.
    *D Problem {q}: what is {a} {sym}?       VD Item {q}) compute {a} {sym}.

    fibonacci
       Calculate the fibonacci function, starting from inputs {a} and {b}, to a recursion
       depth of {d} · Run fibonacci from {a} and {b} for {d} steps. · Fibonacci with inputs
       {a} and {b} and depth {d}?
    R  Starting with {b} as the second number and {a} as the first, run fibonacci for {d}
       steps. · For {d} steps, run fibonacci from {a} and {b}. · Depth {d}: fibonacci from {a}
       and {b}.
    ·R "{Cue}, run fibonacci for {d} steps." for each role cue (in order or R), and "For {d}
       steps, run fibonacci, {cue}." (R, the depth first)
    *  Starting from inputs {a} and {b}, calculate the fibonacci function to a depth of {d}.
    *R To a depth of {d}, calculate the fibonacci function with {b} as the second input and
       {a} as the first.
    *D Problem {q}: fibonacci with inputs {a} and {b} and depth {d}?
    V  Run the fibonacci function on {a} and {b} with depth {d}.
    VR Depth {d}; the second number is {b}, the first is {a}: run fibonacci.
    VD Item {q}) run fibonacci from {a} and {b} for {d} steps.

    sorting
       Sort the list {xs} · Sort these numbers: {xs}. · Put {xs} in increasing order.
    D  Sort these {k} numbers: {xs}.
    *  Sort the numbers {xs} in increasing order.    V  Arrange {xs} in increasing order.
    *D Problem {q}: put the {k} numbers {xs} in     VD Item {q}) sort these {k} numbers: {xs}.
       increasing order.

    D  every training phrasing above, inside each label of :data:`LABELS` ("Question {q}: …",
       "Step {q}. …", "Task {q} - …", "Round {q}, …", "… (exercise {q})", "… [case {q}]"); a
       distractor phrasing inside a label has two numbers that are no operands

A sorted list does not depend on the order of its elements, so sorting has no reversed form;
its distractors include the list's own length. The role cues come in both orders so that the
words "first" and "second", not a phrasing's layout, tell which number is which; the labels
come around every phrasing so that a number's place in the request, not one label word, tells
that it is no operand.

Answers: arithmetic ``op(a, b) mod n`` (an int; the ISA registry's exact semantics); Fibonacci
(an int) the second element after ``d`` steps of ``(a, b) → (b, a + b) mod n``
(:func:`neuralc.library.fibonacci`); sorting the ascending list (a tuple).

Every task names the standard-library programs that solve it (:attr:`Task.programs`: the
calculators ``calc_<op>``, the parallel Fibonacci loop ``fib_parallel``, the sorting network
``sort_network`` on a list in memory with its length); a model may be given any other library.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from ..isa import BY_NAME, TABLE_OPS
from ..library import fibonacci

__all__ = [
    "IGNORE",
    "OP_WORDS",
    "TASKS",
    "UNARY_OPS",
    "Example",
    "Task",
    "get_task",
]

IGNORE = -100  # label of an output slot that does not count (short sorting lists)

# op → a phrasing whose verb itself puts the second argument first ("Subtract 3 from 10" is
# sub(10, 3)); ops without such a verb use the generic reversed phrasing in its place
REVERSING_VERBS: dict[str, str] = {
    "add": "Add {b} to {a}",
    "sub": "Subtract {b} from {a}",
    "mul": "Multiply {b} into {a}",
    "div": "Divide {b} into {a}",
    "and": "Mask {b} out of {a}",
    "or": "Combine {b} into {a}",
    "xor": "Toggle {b} into {a}",
    "lt": "Is {b} greater than {a}?",
    "gt": "Is {b} less than {a}?",
    "le": "Is {b} at least {a}?",
    "ge": "Is {b} at most {a}?",
}

# op → (verb, noun, symbol); every table op of the registry has words.
OP_WORDS: dict[str, tuple[str, str, str]] = {
    "inc": ("Increment", "successor", "plus one"),
    "dec": ("Decrement", "predecessor", "minus one"),
    "not": ("Negate", "logical negation", "negated"),
    "add": ("Add", "sum", "plus"),
    "sub": ("Subtract", "difference", "minus"),
    "mul": ("Multiply", "product", "times"),
    "div": ("Divide", "quotient", "divided by"),
    "mod": ("Reduce", "remainder", "modulo"),
    "min": ("Minimize", "minimum", "min"),
    "max": ("Maximize", "maximum", "max"),
    "and": ("Mask", "bitwise and", "AND"),
    "or": ("Combine", "bitwise or", "OR"),
    "xor": ("Toggle", "bitwise xor", "XOR"),
    "eq": ("Match", "equality test", "=="),
    "ne": ("Contrast", "inequality test", "!="),
    "lt": ("Order", "less-than test", "<"),
    "le": ("Bound", "at-most test", "<="),
    "gt": ("Outrank", "greater-than test", ">"),
    "ge": ("Cover", "at-least test", ">="),
}
assert set(OP_WORDS) == set(TABLE_OPS), "every calculator op needs words"
UNARY_OPS = tuple(op for op in TABLE_OPS if BY_NAME[op].arity == 1)

@dataclass(frozen=True)
class Phrasing:
    """A request template, its form (``in order``, ``reversed``, ``distractor``) and the split
    that holds it out: ``held_out`` (seen in the test split only) or ``validation`` (seen in
    the validation split only)."""

    text: str
    form: str = "in order"
    held_out: bool = False
    validation: bool = False


# each number's role said in words: "with 10 as the first number and 3 as the second"
ROLE_CUES: dict[str, tuple[str, ...]] = {
    "in order": ("with {a} as the first number and {b} as the second",
                 "the first number is {a} and the second is {b}",
                 "first number {a}, second number {b}"),
    "reversed": ("with {b} as the second number and {a} as the first",
                 "the second number is {b} and the first is {a}",
                 "second number {b}, first number {a}"),
}
# a number that is no operand, as a label around a request ({body}; {lbody}: its first letter
# in lower case)
LABELS = ("Question {q}: {lbody}", "Step {q}. {body}", "Task {q} - {lbody}",
          "Round {q}, {lbody}", "{body} (exercise {q})", "{body} [case {q}]")
FORMS = ("in order", "reversed", "distractor")
UNSEEN_SHARE = 0.25  # the share of test (validation) requests in the split's unseen phrasings


def _unseen(p: Phrasing) -> bool:
    """Whether a phrasing is one that training never shows."""
    return p.held_out or p.validation


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cued(*patterns: str) -> list[tuple[str, str]]:
    """Rows that say each number's role (:data:`ROLE_CUES`) inside ``patterns`` (``{cue}`` or
    ``{Cue}``): in argument order, and reversed (``R``). A pattern whose other operands come
    first (``!``) makes both orders reversed."""
    rows = []
    for pattern in patterns:
        first = pattern.startswith("!")
        for order, cues in ROLE_CUES.items():
            mark = "R" if first or order == "reversed" else ""
            rows += [(mark, pattern.lstrip("!").replace("{Cue}", _cap(c)).replace("{cue}", c))
                     for c in cues]
    return rows


def _family(*rows: tuple[str, str] | str) -> tuple[Phrasing, ...]:
    """Phrasings from ``text`` or ``(marks, text)`` rows: ``R`` reversed, ``D`` distractor,
    ``*`` held out for the test split, ``V`` for the validation split (the module docstring's
    notation). Every training phrasing also comes inside each of :data:`LABELS`, as a
    distractor phrasing (around one with a number that is no operand: two such numbers)."""
    out = []
    for row in rows:
        marks, text = row if isinstance(row, tuple) else ("", row)
        form = "reversed" if "R" in marks else "distractor" if "D" in marks else "in order"
        out.append(Phrasing(text, form, "*" in marks, "V" in marks))
    bodies = [p.text for p in out if not _unseen(p)]
    out += [Phrasing(label.replace("{body}", body).replace("{lbody}", body[:1].lower() + body[1:]),
                     "distractor") for body in bodies for label in LABELS]
    return tuple(out)


BINARY_TEMPLATES = _family(
    "{Verb} {a} and {b}",
    "What is {a} {sym} {b}?",
    "Compute the {noun} of {a} and {b}.",
    "{a} {sym} {b} = ?",
    ("R", "Given b = {b} and a = {a}, what is a {sym} b?"),
    ("R", "{reversing}"),
    ("R", "The second number is {b} and the first is {a}. What is their {noun}?"),
    *_cued("{Cue}, compute the {noun}.", "Compute the {noun}, {cue}."),
    ("*", "What is the {noun} of {a} and {b}?"),
    ("*R", "Take {b} as the second number and {a} as the first: what is their {noun}?"),
    ("*D", "Problem {q}: what is {a} {sym} {b}?"),
    ("V", "Find the {noun} of {a} and {b}."),
    ("VR", "Let the second number be {b} and the first be {a}; give the {noun}."),
    ("VD", "Item {q}) compute {a} {sym} {b}."),
)
UNARY_TEMPLATES = _family(
    "{Verb} {a}",
    "What is {a} {sym}?",
    "Compute the {noun} of {a}.",
    "{a} {sym} = ?",
    ("*", "What is the {noun} of {a}?"),
    ("*D", "Problem {q}: what is {a} {sym}?"),
    ("V", "Find the {noun} of {a}."),
    ("VD", "Item {q}) compute {a} {sym}."),
)
FIB_TEMPLATES = _family(
    ("Calculate the fibonacci function, starting from inputs {a} and {b}, "
     "to a recursion depth of {d}"),
    "Run fibonacci from {a} and {b} for {d} steps.",
    "Fibonacci with inputs {a} and {b} and depth {d}?",
    ("R", ("Starting with {b} as the second number and {a} as the first, run fibonacci for "
           "{d} steps.")),
    ("R", "For {d} steps, run fibonacci from {a} and {b}."),
    ("R", "Depth {d}: fibonacci from {a} and {b}."),
    *_cued("{Cue}, run fibonacci for {d} steps.", "!For {d} steps, run fibonacci, {cue}."),
    ("*", "Starting from inputs {a} and {b}, calculate the fibonacci function to a depth of {d}."),
    ("*R", ("To a depth of {d}, calculate the fibonacci function with {b} as the second input "
            "and {a} as the first.")),
    ("*D", "Problem {q}: fibonacci with inputs {a} and {b} and depth {d}?"),
    ("V", "Run the fibonacci function on {a} and {b} with depth {d}."),
    ("VR", "Depth {d}; the second number is {b}, the first is {a}: run fibonacci."),
    ("VD", "Item {q}) run fibonacci from {a} and {b} for {d} steps."),
)
SORT_TEMPLATES = _family(
    "Sort the list {xs}",
    "Sort these numbers: {xs}.",
    "Put {xs} in increasing order.",
    ("D", "Sort these {k} numbers: {xs}."),
    ("*", "Sort the numbers {xs} in increasing order."),
    ("*D", "Problem {q}: put the {k} numbers {xs} in increasing order."),
    ("V", "Arrange {xs} in increasing order."),
    ("VD", "Item {q}) sort these {k} numbers: {xs}."),
)


def _pick(rng: random.Random, family: tuple[Phrasing, ...], split: str) -> int:
    """A phrasing index: a form uniformly, then, in the test (validation) split with
    probability :data:`UNSEEN_SHARE`, that split's held-out phrasing of the form, else a
    training phrasing of the form. Training never picks a held-out phrasing; the test and
    validation splits never pick each other's."""
    forms = [f for f in FORMS if any(p.form == f for p in family)]
    form = rng.choice(forms)
    unseen = rng.random() < UNSEEN_SHARE
    held = [i for i, p in enumerate(family) if p.form == form and
            (p.held_out if split == "test" else p.validation if split == "validation" else False)]
    if unseen and held:
        return rng.choice(held)
    return rng.choice([i for i, p in enumerate(family) if p.form == form and not _unseen(p)])


@dataclass(frozen=True)
class Example:
    """One request: its text and answer (an int, or a tuple for a list). The rest is for
    reports only (never supervised); a user's data carries only ``text`` and ``answer``."""

    text: str
    answer: int | tuple[int, ...]
    program: str = ""
    inputs: tuple = ()
    template: int = -1
    held_out_template: bool = False
    group: str = ""  # reporting key: the op, "depth=3", "len=8", ...
    form: str = ""  # the phrasing's form: "in order", "reversed" or "distractor"

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "answer": list(self.answer) if isinstance(self.answer, tuple) else self.answer,
            "program": self.program,
            "inputs": list(self.inputs),
            "template": self.template,
            "held_out_template": self.held_out_template,
            "group": self.group,
            "form": self.form,
        }


def _in_test(seed: int, key: tuple, test_fraction: float) -> bool:
    """Seeded hash split of operand combinations (stable across runs and Python versions)."""
    h = hashlib.sha256(repr((seed, key)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < test_fraction


@dataclass(frozen=True)
class Task:
    """A family of requests and how they meet the library.

    ``programs``: library entry points the model selects among. ``inputs``: what the parsing heads
    fill, in order (each a value in ``0..n-1``). ``outputs``: how many answer slots.
    """

    name: str
    kind: str  # "arithmetic" | "fibonacci" | "sorting" | "mixed"
    ops: tuple[str, ...] = ()
    depths: tuple[int, ...] = ()
    lengths: tuple[int, ...] = ()
    test_lengths: tuple[int, ...] = ()  # sorting: lengths of the test split (default: lengths)
    n: int = 128
    test_fraction: float = 0.2
    train_size: int = 4000
    test_size: int = 1000
    fib_share: float | None = None  # mixed: fraction of Fibonacci requests (None: 1/(ops+1))
    extra: dict = field(default_factory=dict)

    # -- the library that solves it ------------------------------------------------------
    @property
    def programs(self) -> tuple[str, ...]:
        """Standard-library programs, in the order of the selection head."""
        progs: list[str] = []
        if self.kind in ("arithmetic", "mixed"):
            progs += [f"calc_{op}" for op in self.ops]
        if self.kind in ("fibonacci", "mixed"):
            progs.append("fib_parallel")
        if self.kind == "sorting":
            progs.append("sort_network")
        return tuple(progs)

    @property
    def capacity(self) -> int:
        """The longest list of a request (0: no lists)."""
        return max(self.lengths + self.test_lengths) if self.kind == "sorting" else 0

    @property
    def max_depth(self) -> int:
        return max(self.depths) if self.depths else 0

    def budget_samples(self) -> dict[str, list]:
        """Inputs that take a program longest on this task (its step budget); the library's
        own samples for the others."""
        return {"fib_parallel": [[0, 1, self.max_depth]]} if self.depths else {}

    # -- generation -------------------------------------------------------------------------
    def _arith(self, op: str, a: int, b: int, t: int, q: int) -> Example:
        verb, noun, sym = OP_WORDS[op]
        unary = op in UNARY_OPS
        p = (UNARY_TEMPLATES if unary else BINARY_TEMPLATES)[t]
        generic = "With {b} as the second number and {a} as the first, compute the {noun}."
        text = p.text.format(reversing=REVERSING_VERBS.get(op, generic), Verb=verb, noun=noun,
                             sym=sym, a=a, b=b, q=q)
        text = text.format(Verb=verb, noun=noun, sym=sym, a=a, b=b, q=q)
        ans = BY_NAME[op].fn(a, b, self.n) % self.n
        return Example(text, ans, f"calc_{op}", (a,) if unary else (a, b), t, _unseen(p), op,
                       p.form)

    def _fib(self, a: int, b: int, d: int, t: int, q: int) -> Example:
        p = FIB_TEMPLATES[t]
        return Example(p.text.format(a=a, b=b, d=d, q=q), fibonacci(a, b, d, self.n),
                       "fib_parallel", (a, b, d), t, _unseen(p), f"depth={d}", p.form)

    def _sort(self, xs: tuple[int, ...], t: int, q: int) -> Example:
        p = SORT_TEMPLATES[t]
        text = p.text.format(xs=", ".join(map(str, xs)), k=len(xs), q=q)
        return Example(text, tuple(sorted(xs)), "sort_network", xs, t, _unseen(p),
                       f"len={len(xs)}", p.form)

    def _draw(self, rng: random.Random, split: str, seed: int) -> Example:
        """One example of ``split`` whose operand combination belongs to that split."""
        n = self.n
        want_test = split == "test"
        kind = self.kind
        if kind == "mixed":
            share = self.fib_share if self.fib_share is not None else 1 / (len(self.ops) + 1)
            kind = "fibonacci" if rng.random() < share else "arithmetic"
        while True:
            if kind == "arithmetic":
                op = rng.choice(self.ops)
                a = rng.randrange(n)
                b = 0 if op in UNARY_OPS else rng.randrange(n)
                key: tuple = (op, a, b)
                family = UNARY_TEMPLATES if op in UNARY_OPS else BINARY_TEMPLATES
            elif kind == "fibonacci":
                a, b, d = rng.randrange(n), rng.randrange(n), rng.choice(self.depths)
                key = ("fib", a, b, d)
                family = FIB_TEMPLATES
            else:
                length = rng.choice(self.test_lengths if want_test and self.test_lengths
                                    else self.lengths)
                xs = tuple(rng.randrange(n) for _ in range(length))
                key = ("sort",) + xs
                family = SORT_TEMPLATES
            if _in_test(seed, key, self.test_fraction) != want_test:
                continue
            t = _pick(rng, family, split)
            q = rng.randrange(1, n)  # a number that is no operand, for the distractor forms
            if kind == "arithmetic":
                return self._arith(op, a, b, t, q)
            if kind == "fibonacci":
                return self._fib(a, b, d, t, q)
            return self._sort(xs, t, q)

    def make_split(self, split: str, seed: int = 0, size: int | None = None) -> list[Example]:
        """``size`` examples of ``"train"``, ``"validation"`` (training combinations, the
        training phrasings and the validation's held-out ones) or ``"test"``, deterministic in
        ``seed``."""
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation' or 'test', not {split!r}")
        size = size if size is not None else (self.train_size if split == "train" else
                                              self.test_size)
        rng = random.Random(f"{self.name}:{split}:{seed}")
        return [self._draw(rng, split, seed) for _ in range(size)]

    def corpus(self, seed: int = 0, size: int = 3000) -> list[str]:
        """Texts for training a tokenizer: every template, operands from both ranges."""
        rng = random.Random(f"{self.name}:corpus:{seed}")
        texts = []
        for _ in range(size):
            split = "test" if rng.random() < 0.5 else "train"
            texts.append(self._draw(rng, split, seed).text)
        return texts


TASKS: dict[str, Task] = {
    # add/sub/mul (docs/DESIGN.md §11.1) with inc/dec/min/max, whose answers point straight at an
    # operand and so teach the shared number reader early; every calculator op: arithmetic-all
    "arithmetic": Task("arithmetic", "arithmetic",
                       ops=("add", "sub", "mul", "inc", "dec", "min", "max")),
    "arithmetic-all": Task("arithmetic-all", "arithmetic", ops=TABLE_OPS, train_size=8000),
    "arithmetic-basic": Task("arithmetic-basic", "arithmetic", ops=("add", "sub", "mul")),
    "fibonacci": Task("fibonacci", "fibonacci", depths=tuple(range(1, 9))),
    "sorting": Task("sorting", "sorting", lengths=tuple(range(4, 9))),
    "sorting8": Task("sorting8", "sorting", lengths=(8,)),
    # length generalisation: train on lists of 2-8 values, test on 9-12
    "sorting-long": Task("sorting-long", "sorting", lengths=tuple(range(2, 9)),
                         test_lengths=tuple(range(9, 13))),
    "mixed": Task("mixed", "mixed", ops=("add", "sub", "mul", "min", "max"),
                  depths=(1, 2, 3, 4)),
    # half arithmetic (the ops of "arithmetic"), half Fibonacci of depths 1-8: the arithmetic
    # requests teach the shared number reader, which a deep loop alone cannot (its output stays
    # flat while the parse is uniform); then the loop runs on sharp inputs
    "mixed-deep": Task("mixed-deep", "mixed", ops=("add", "sub", "mul", "inc", "dec", "min", "max"),
                       depths=tuple(range(1, 9)), fib_share=0.5, train_size=8000,
                       test_size=2000),
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r} (choose from {', '.join(TASKS)})") from None
