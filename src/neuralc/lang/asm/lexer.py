"""Split assembly source into lines of labels, a directive, or instruction slots (docs/LANGUAGE.md §2).

The lexer knows the shape of a line, not the instruction set: it finds comments, labels,
directives, ``|``-separated slots and comma/space-separated words, and records the 1-based
column of every token so that later errors can point at it. Errors of shape (a bad comma, an
empty slot, a malformed label) go to a shared list of :class:`Diagnostic`; lexing never stops.

A source line is::

    [label: ...] [.directive ARG ... | instruction [| instruction ...]]   [; or # comment]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import Diagnostic

__all__ = ["LABEL_RE", "REGISTER_RE", "Slot", "SourceLine", "Token", "lex", "split_lines"]

LABEL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
REGISTER_RE = re.compile(r"[rR]([0-9]+)")
# a label candidate at the start of the line: a word that ends in ':' (the colon right after it)
_LABEL_CANDIDATE = re.compile(r"\s*([^\s:|,;#]+):")
_SPACED_COLON = re.compile(r"\s*[^\s:|,;#.][^\s:|,;#]*(\s+):")


@dataclass(frozen=True)
class Token:
    text: str
    col: int  # 1-based column of the token's first character


@dataclass
class Slot:
    """One instruction of a line: its mnemonic and operand words."""

    mnemonic: Token
    operands: list[Token]


@dataclass
class SourceLine:
    lineno: int  # 1-based
    labels: list[Token] = field(default_factory=list)
    directive: Token | None = None  # the ``.name`` token
    args: list[Token] = field(default_factory=list)  # the directive's arguments
    slots: list[Slot] = field(default_factory=list)  # the instruction slots (empty: none)
    has_instruction: bool = False  # true even when every slot was malformed

    @property
    def col(self) -> int:
        """Column of the line's first instruction (for errors about the whole line)."""
        return self.slots[0].mnemonic.col if self.slots else 1


def split_lines(text: str | bytes) -> list[str]:
    """Source lines without their line ends; a UTF-8 byte-order mark and CRLF are accepted.

    Only ``\\n`` ends a line (``str.splitlines`` would also split at form feeds and other
    characters that editors do not show as line ends, and shift every later line number).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.removesuffix("\r") for ln in lines]


def _words(text: str, offset: int, lineno: int, diags: list[Diagnostic]) -> list[Token]:
    """Words of ``text`` (which starts at 0-based column ``offset``).

    Words are separated by whitespace and/or one comma *between operands*: the first word (the
    mnemonic or directive) may not be followed by a comma, and there may be no comma before the
    first operand, after the last one, or two between a pair.
    """
    words: list[Token] = []
    commas: list[int] = []  # 0-based positions of commas since the previous word
    i, end = 0, len(text)

    def comma_error(pos: int, what: str) -> None:
        diags.append(Diagnostic(lineno, offset + pos + 1, f"unexpected ',' {what}"))

    while i < end:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == ",":
            commas.append(i)
            i += 1
            continue
        j = i
        while j < end and not text[j].isspace() and text[j] != ",":
            j += 1
        if commas:
            if len(words) == 0:
                comma_error(commas[0], "before the instruction")
            elif len(words) == 1:
                comma_error(commas[0], "before the first operand")
            elif len(commas) > 1:
                comma_error(commas[1], "(operands are separated by a single comma)")
        words.append(Token(text[i:j], offset + i + 1))
        commas = []
        i = j
    if commas:
        where = ("after the last operand" if len(words) > 1
                 else "after the instruction" if words else "without an instruction")
        comma_error(commas[0], where)
    return words


def _strip_comment(line: str) -> str:
    cut = len(line)
    for ch in ";#":
        k = line.find(ch)
        if k != -1:
            cut = min(cut, k)
    return line[:cut]


def lex_line(line: str, lineno: int, diags: list[Diagnostic]) -> SourceLine:
    """The labels, directive or slots of one source line."""
    out = SourceLine(lineno)
    text = _strip_comment(line)
    pos = 0
    # labels: words that end in ':' at the start of the line
    while True:
        m = _LABEL_CANDIDATE.match(text, pos)
        if not m:
            break
        name, col = m.group(1), m.start(1) + 1
        if not LABEL_RE.fullmatch(name):
            diags.append(Diagnostic(
                lineno, col, f"invalid label name '{name}' (a label matches [A-Za-z_][A-Za-z0-9_.]*)"))
        elif REGISTER_RE.fullmatch(name):
            diags.append(Diagnostic(lineno, col, f"label '{name}' looks like a register"))
        else:
            out.labels.append(Token(name, col))
        pos = m.end()
    m = _SPACED_COLON.match(text, pos)
    if m:
        diags.append(Diagnostic(
            lineno, m.end(), "space before ':' (a label's colon must follow its name directly)"))
        pos = m.end()
    rest = text[pos:]
    if not rest.strip():
        return out
    if rest.lstrip().startswith("."):
        words = _words(rest, pos, lineno, diags)
        out.directive, out.args = words[0], words[1:]
        return out
    out.has_instruction = True
    start = pos
    pieces = rest.split("|")
    bars: list[int] = []  # 0-based column of each '|'
    for piece in pieces[:-1]:
        start += len(piece)
        bars.append(start)
        start += 1
    start = pos
    for k, piece in enumerate(pieces):
        if not piece.strip():
            # point at the '|' next to the empty slot
            bar = bars[k - 1] if k > 0 else bars[0]
            diags.append(Diagnostic(lineno, bar + 1, "empty instruction slot next to '|'"))
        else:
            words = _words(piece, start, lineno, diags)
            if words:  # a slot of commas only was reported by _words
                out.slots.append(Slot(words[0], words[1:]))
        start += len(piece) + 1
    return out


def lex(text: str | bytes, diags: list[Diagnostic]) -> list[SourceLine]:
    """Lex a whole source text; shape errors are appended to ``diags``."""
    return [lex_line(line, i + 1, diags) for i, line in enumerate(split_lines(text))]
