"""Diagnostics: errors users can act on (docs/LANGUAGE.md §8).

Bad input with a place in a file is reported as ``FILE:LINE:COL: error: MESSAGE``; every error
of a file, in order. Library code raises :class:`CompileError` holding all diagnostics; the
command line prints them and exits with status 2. Run-time errors of a program (docs/LANGUAGE.md §3.1: division
by zero, an index out of range, memory exhausted) raise :class:`RuntimeProgramError` (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CompileError", "Diagnostic", "RuntimeProgramError", "UsageError"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int  # 1-based
    col: int  # 1-based
    message: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}:{self.col}: error: {self.message}"


class CompileError(Exception):
    """One or more errors with a place in a source file."""

    def __init__(self, diagnostics: list[Diagnostic], filename: str = "<input>"):
        self.diagnostics = sorted(diagnostics)
        self.filename = filename
        super().__init__("\n".join(d.format(filename) for d in self.diagnostics))

    def lines(self, filename: str | None = None) -> list[str]:
        return [d.format(filename or self.filename) for d in self.diagnostics]


class UsageError(Exception):
    """Bad input with no place in a file (bad option, size out of range, missing file)."""


class RuntimeProgramError(Exception):
    """A run-time error of the program itself (docs/LANGUAGE.md §3.1, exit status 3)."""
