"""Run a compiled program on a backend: the reference interpreter or the differentiable machine.

    out = execute(program, registers, memory, backend="machine", max_steps=1000)
    out.halted, out.steps, out.registers, out.memory   # (out.confidence on the machine)

The one place that chooses the backend (``neuralc run``, ``neuralc doctest``, library images).
The machine is imported on first use, so torch stays out of ``import neuralc``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lang.errors import UsageError
from ..lang.interp import DEFAULT_MAX_STEPS, run_reference
from ..lang.program import Program

__all__ = ["BACKENDS", "PyRunResult", "execute"]

BACKENDS = ("reference", "machine")


@dataclass
class PyRunResult:
    halted: bool
    steps: int
    result: int | list[int] | None
    confidence: float | None = None

    def to_json(self) -> dict:
        out = {"halted": self.halted, "steps": self.steps, "result": self.result}
        if self.confidence is not None:
            out["confidence"] = self.confidence
        return out


def execute(program: Program, registers, memory, backend: str = "reference",
            max_steps: int = DEFAULT_MAX_STEPS, entry: int | None = None, **machine_kw):
    """Run ``program`` from ``entry`` (its own entry when None) on ``backend``; the run's result
    (a :class:`neuralc.lang.interp.RunResult`, or the machine's result with its confidence).
    Raises :class:`UsageError` for an unknown backend."""
    at = {} if entry is None else {"entry": entry}
    if backend == "reference":
        return run_reference(program, registers, memory, max_steps, **at)
    if backend == "machine":
        from ..machine import run_machine

        return run_machine(program, registers, memory, max_steps=max_steps, **at, **machine_kw)
    raise UsageError(f"unknown backend '{backend}' (reference or machine)")
