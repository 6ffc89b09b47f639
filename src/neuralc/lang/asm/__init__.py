"""The assembler: docs/LANGUAGE.md §2 source text → checked :class:`~neuralc.lang.program.Program`."""

from .assembler import DIRECTIVES, assemble, assemble_file, read_source

__all__ = ["DIRECTIVES", "assemble", "assemble_file", "read_source"]
