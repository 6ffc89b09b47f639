"""Instruction set: the one registry every other stage reads."""

from .registry import (
    BY_NAME,
    CONTROL_OPS,
    INSTRUCTIONS,
    OPCODE,
    TABLE_OPS,
    WRITES_REGISTER,
    Instruction,
    opcode,
)

__all__ = [
    "BY_NAME",
    "CONTROL_OPS",
    "INSTRUCTIONS",
    "OPCODE",
    "TABLE_OPS",
    "WRITES_REGISTER",
    "Instruction",
    "opcode",
]
