"""One clock for every benchmark: milliseconds of wall time and of process CPU time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["sync", "timed"]


def sync(device: torch.device | None) -> None:
    """Wait for the device's queued work (CUDA); nothing on the CPU or without a device."""
    if device is not None and device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device | None = None) -> tuple[float, float]:
    """(wall ms, process CPU ms of all threads) of one call of ``fn``, the device synchronized
    before and after. On a loaded machine the wall clock of a multi-threaded run can be many
    times its CPU time; the CPU time is the steadier of the two on a shared machine."""
    sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3
