"""Differentiable logic gates on bit probabilities in [0, 1] (docs/DESIGN.md §6.4).

Each gate is the exact probability of its output for *independent* input bits, and the exact
Boolean gate on crisp bits (0 or 1)::

    AND(a, b) = a·b          OR(a, b) = a + b − a·b        XOR(a, b) = a + b − 2·a·b
    NOT(a)    = 1 − a        XNOR(a, b) = 1 − XOR(a, b)    MUX(s, x, y) = s·x + (1 − s)·y

``EITHER(x, y) = x + y`` is the OR of two *mutually exclusive* events (the two ways a carry can
arise), which is what keeps the adder's carries exact on independent bits where OR would not be.
"""

from __future__ import annotations

import torch

__all__ = ["AND", "EITHER", "MUX", "NOT", "OR", "XNOR", "XOR"]

Bits = torch.Tensor


def AND(a: Bits, b: Bits) -> Bits:
    return a * b


def OR(a: Bits, b: Bits) -> Bits:
    return a + b - a * b


def XOR(a: Bits, b: Bits) -> Bits:
    return a + b - 2 * a * b


def XNOR(a: Bits, b: Bits) -> Bits:
    return 1 - XOR(a, b)


def NOT(a: Bits) -> Bits:
    return 1 - a


def MUX(s: Bits, x: Bits, y: Bits) -> Bits:
    """``x`` where ``s`` is 1, ``y`` where it is 0."""
    return s * x + (1 - s) * y


def EITHER(x: Bits, y: Bits) -> Bits:
    """OR of two events that cannot both happen."""
    return x + y
