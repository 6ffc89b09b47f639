"""Assemble docs/LANGUAGE.md §2 source text into a checked :class:`~neuralc.lang.program.Program`.

Three passes over the lexed lines, each collecting every error it finds:

1. **layout** — number the instruction lines, bind labels to lines (a label names the next
   instruction line, or L after the last one) and collect the directives;
2. **sizes** — directives, then command-line overrides on top, then the checks of docs/LANGUAGE.md §1
   (an error in a directive points at the directive; a bad override is a :class:`UsageError`);
3. **operands** — now that n, K, the width and L are known, resolve every operand against the
   instruction registry.

All diagnostics of the file are raised together as one :class:`CompileError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...isa import BY_NAME
from ..errors import CompileError, Diagnostic, UsageError
from ..program import Op, Program, Sizes, Target
from .lexer import LABEL_RE, REGISTER_RE, SourceLine, Token, lex

__all__ = ["DIRECTIVES", "SIZE_DIRECTIVES", "assemble", "assemble_file"]

_INT_RE = re.compile(r"[+-]?[0-9]+")
SIZE_DIRECTIVES = ("n", "registers", "memory", "width")
DIRECTIVES = (*SIZE_DIRECTIVES, "entry")
_KIND_NAMES = {"R": "register", "D": "register", "I": "integer", "T": "target"}


@dataclass
class _Directive:
    name: str
    token: Token  # the ``.name`` token
    lineno: int
    value: int | Token | None = None  # an int for sizes, the label token for .entry


def _overrides(sizes: Sizes | Mapping[str, int | None] | None) -> dict[str, int | None]:
    """Command-line sizes as ``{field: value}``; only the fields that were given.

    A :class:`Sizes` fixes every size (its ``memory=None`` means "follow n"); a mapping overrides
    only its keys whose value is not None.
    """
    if sizes is None:
        return {}
    if isinstance(sizes, Sizes):
        return {"n": sizes.n, "registers": sizes.registers, "memory": sizes.memory,
                "width": sizes.width, "_fixed_memory": True}
    unknown = set(sizes) - set(SIZE_DIRECTIVES)
    if unknown:
        raise TypeError(f"unknown size override(s): {sorted(unknown)}")
    return {k: v for k, v in sizes.items() if v is not None}


class _Assembler:
    def __init__(self, text: str | bytes, sizes) -> None:
        self.diags: list[Diagnostic] = []
        self.overrides = _overrides(sizes)
        self.lines: list[SourceLine] = lex(text, self.diags)

    def error(self, lineno: int, col: int, message: str) -> None:
        self.diags.append(Diagnostic(lineno, col, message))

    # -- pass 1: layout ------------------------------------------------------------------------
    def layout(self) -> None:
        self.code: list[SourceLine] = []  # the instruction lines, in program order
        self.labels: dict[str, int] = {}
        self.label_lines: dict[str, int] = {}  # label → source line (for duplicate messages)
        self.directives: dict[str, _Directive] = {}
        pending: list[Token] = []
        pending_lineno: list[int] = []
        for sl in self.lines:
            if sl.directive is not None:
                if sl.labels:
                    self.error(sl.lineno, sl.labels[0].col, "a directive cannot have a label")
                self.directive(sl)
            for tok in sl.labels:
                pending.append(tok)
                pending_lineno.append(sl.lineno)
            if sl.has_instruction:
                for tok, lineno in zip(pending, pending_lineno):
                    self.bind(tok, lineno, len(self.code))
                pending, pending_lineno = [], []
                self.code.append(sl)
        for tok, lineno in zip(pending, pending_lineno):
            self.bind(tok, lineno, len(self.code))

    def bind(self, tok: Token, lineno: int, line: int) -> None:
        if tok.text in self.labels:
            self.error(lineno, tok.col, f"duplicate label '{tok.text}' "
                       f"(first defined on line {self.label_lines[tok.text]})")
            return
        self.labels[tok.text] = line
        self.label_lines[tok.text] = lineno

    def directive(self, sl: SourceLine) -> None:
        tok = sl.directive
        name = tok.text[1:].lower()
        if name not in DIRECTIVES:
            self.error(sl.lineno, tok.col, f"unknown directive '{tok.text}' (known: "
                       + ", ".join("." + d for d in DIRECTIVES) + ")")
            return
        if self.code:
            self.error(sl.lineno, tok.col,
                       f"directive '.{name}' must come before the first instruction")
            return
        if name in self.directives:
            self.error(sl.lineno, tok.col, f"duplicate directive '.{name}' "
                       f"(first on line {self.directives[name].lineno})")
            return
        d = _Directive(name, tok, sl.lineno)
        if not sl.args:
            what = "a label" if name == "entry" else "an integer"
            self.error(sl.lineno, tok.col, f"'.{name}' needs {what}")
            return
        if len(sl.args) > 1:
            self.error(sl.lineno, sl.args[1].col, f"'.{name}' takes one value")
            return
        arg = sl.args[0]
        if name == "entry":
            if not LABEL_RE.fullmatch(arg.text) or REGISTER_RE.fullmatch(arg.text):
                self.error(sl.lineno, arg.col, f"'.entry' needs a label, got '{arg.text}'")
                return
            d.value = arg
        else:
            if not _INT_RE.fullmatch(arg.text):
                self.error(sl.lineno, arg.col,
                           f"'.{name}' needs an integer, got '{arg.text}'")
                return
            d.value = int(arg.text)
        self.directives[name] = d

    # -- pass 2: sizes -------------------------------------------------------------------------
    def sizes(self) -> Sizes | None:
        """Final sizes, or None when they are invalid (the error is recorded)."""
        ov = self.overrides
        src: dict[str, str] = {}  # field → "option" | "directive" | "default"
        val: dict[str, int | None] = {}
        default = Sizes()
        for f in SIZE_DIRECTIVES:
            if f in ov:
                val[f], src[f] = ov[f], "option"
            elif f in self.directives:
                val[f], src[f] = self.directives[f].value, "directive"
            else:
                val[f], src[f] = getattr(default, f), "default"
        if ov.get("_fixed_memory"):
            src["memory"] = "option" if val["memory"] is not None else "default"
        ok = True

        def bad(field: str, message: str) -> None:
            nonlocal ok
            ok = False
            if src[field] == "directive":
                d = self.directives[field]
                self.error(d.lineno, d.token.col, message)
            else:  # a command-line override (or a Sizes passed by the caller)
                raise UsageError(message)

        n, K, m, W = val["n"], val["registers"], val["memory"], val["width"]
        if n < 2:
            bad("n", f"n must be at least 2 (got {n})")
        if K < 1:
            bad("registers", f"registers must be at least 1 (got {K})")
        if W < 1:
            bad("width", f"width must be at least 1 (got {W})")
        if m is not None:
            if m < 1:
                bad("memory", f"memory must be at least 1 (got {m})")
            elif n >= 2 and m > n:
                if src["memory"] == "option":
                    where = (f" (set by .n on line {self.directives['n'].lineno})"
                             if src["n"] == "directive" else "")
                    bad("memory", f"--memory {m} is larger than n={n}{where}")
                else:
                    bad("memory", f"memory must be between 1 and n={n} (got {m})")
        return Sizes(n, K, m, W) if ok else None

    # -- pass 3: operands ----------------------------------------------------------------------
    def operands(self, sizes: Sizes | None) -> list[tuple[Op, ...]]:
        L = len(self.code)
        n = sizes.n if sizes else None
        K = sizes.registers if sizes else None
        W = sizes.width if sizes else None
        program: list[tuple[Op, ...]] = []
        for i, sl in enumerate(self.code):
            ops: list[Op] = []
            controls = 0
            for s, slot in enumerate(sl.slots):
                if W is not None and s == W:
                    self.error(sl.lineno, slot.mnemonic.col,
                               f"line has {len(sl.slots)} instructions but the width is {W}")
                op = self.op(sl.lineno, slot, n, K, L)
                ins = BY_NAME.get(slot.mnemonic.text.lower())
                if ins is not None and ins.is_control:
                    controls += 1
                    if controls == 2:
                        self.error(sl.lineno, slot.mnemonic.col,
                                   "at most one control instruction (halt, jump, goto, call, ret) "
                                   "may stand on a line")
                if op is not None:
                    ops.append(op)
            program.append(tuple(ops))
        if sizes is not None and L > sizes.n:
            sl = self.code[sizes.n]
            self.error(sl.lineno, sl.col,
                       f"program has {L} lines but n={sizes.n} allows at most {sizes.n}")
        return program

    def op(self, lineno: int, slot, n, K, L) -> Op | None:
        mn = slot.mnemonic
        ins = BY_NAME.get(mn.text.lower())
        if ins is None:
            self.error(lineno, mn.col, f"unknown instruction '{mn.text}'")
            return None
        kinds = ins.operands
        got = slot.operands
        if len(got) != len(kinds):
            shape = " ".join(_KIND_NAMES[k] for k in kinds) or "none"
            col = got[len(kinds)].col if len(got) > len(kinds) else mn.col
            self.error(lineno, col, f"'{ins.name}' takes {len(kinds)} operand"
                       f"{'' if len(kinds) == 1 else 's'} ({shape}), got {len(got)}")
            return None
        args = []
        for kind, tok in zip(kinds, got):
            a = self.operand(lineno, kind, tok, n, K, L)
            if a is None:
                return None
            args.append(a)
        return Op(ins.name, tuple(args))

    def register(self, lineno: int, tok: Token, K) -> int | None:
        m = REGISTER_RE.fullmatch(tok.text)
        if not m:
            return None
        r = int(m.group(1))
        if K is not None and r >= K:
            self.error(lineno, tok.col, f"register '{tok.text}' out of range "
                       f"(registers are r0..r{K - 1})")
            return -1
        return r

    def operand(self, lineno: int, kind: str, tok: Token, n, K, L):
        """The resolved operand, or None after recording an error."""
        if kind in "RD":
            r = self.register(lineno, tok, K)
            if r is None:
                self.error(lineno, tok.col, f"expected a register, got '{tok.text}'")
            return r if r is not None and r >= 0 else None
        if kind == "I":
            if not _INT_RE.fullmatch(tok.text):
                self.error(lineno, tok.col, f"expected an integer, got '{tok.text}'")
                return None
            v = int(tok.text)
            return v % n if n else v
        # T: a register (indirect), a line number 0..L, or a label
        r = self.register(lineno, tok, K)
        if r is not None:
            return Target(register=r) if r >= 0 else None
        if _INT_RE.fullmatch(tok.text):
            line = int(tok.text)
            if not 0 <= line <= L:
                self.error(lineno, tok.col, f"target line {line} out of range "
                           f"(lines are 0..{L}, {L} halts)")
                return None
            return Target(line=line)
        if LABEL_RE.fullmatch(tok.text):
            if tok.text not in self.labels:
                self.error(lineno, tok.col, f"unknown label '{tok.text}'")
                return None
            return Target(line=self.labels[tok.text])
        self.error(lineno, tok.col, f"expected a target (label, line or register), "
                   f"got '{tok.text}'")
        return None

    # -- all together --------------------------------------------------------------------------
    def run(self, filename: str) -> Program:
        self.layout()
        sizes = self.sizes()
        if not self.code:
            self.error(1, 1, "empty program: no instructions")
        lines = self.operands(sizes)
        entry, entry_label = 0, None
        d = self.directives.get("entry")
        if d is not None:
            tok = d.value
            if tok.text in self.labels:
                entry, entry_label = self.labels[tok.text], tok.text
            else:
                self.error(d.lineno, tok.col, f"unknown label '{tok.text}'")
        if self.diags:
            raise CompileError(self.diags, filename)
        return Program(lines, sizes, entry=entry, labels=dict(self.labels),
                       entry_label=entry_label)


def assemble(
    text: str | bytes,
    filename: str = "<input>",
    sizes: Sizes | Mapping[str, int | None] | None = None,
) -> Program:
    """Assemble docs/LANGUAGE.md §2 source into a checked :class:`Program`.

    ``sizes`` are the command-line overrides: a mapping such as ``{"n": 8, "memory": None}``
    overrides the file's directives for its keys that are not None; a :class:`Sizes` fixes all
    four sizes. Raises :class:`CompileError` with every error of the file (``filename`` is used
    when printing them), or :class:`UsageError` when an override itself is out of range.
    """
    return _Assembler(text, sizes).run(filename)


def assemble_file(
    path: str | os.PathLike,
    sizes: Sizes | Mapping[str, int | None] | None = None,
    filename: str | None = None,
) -> Program:
    """Read and assemble a file (UTF-8, a byte-order mark is accepted).

    A missing or unreadable file raises :class:`UsageError`; errors name the file as ``path``
    (or ``filename``) was given.
    """
    name = filename if filename is not None else os.fspath(path)
    return assemble(read_source(path), name, sizes)


def read_source(path: str | os.PathLike) -> str:
    """The text of a source file, or :class:`UsageError` when it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise UsageError(f"{os.fspath(path)}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{os.fspath(path)}: is a directory") from None
    except OSError as e:
        raise UsageError(f"{os.fspath(path)}: cannot read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{os.fspath(path)}: not UTF-8 text ({e.reason} at byte {e.start})") from None
