"""ALU forward + backward time and memory (``neuralc bench``; a benchmark, not a test).

Measured in one run, on one machine, with the same settings for every ALU:

* **ALU forward + backward** of ``dense``, ``sparse`` and ``circuit`` at N = 32 … 512 (and 1024
  for the ALUs whose size allows it), batch 32: ``f`` (B, A_t), ``u``, ``v`` (B, N) soft
  distributions that require gradients (all 19 table ops weighted), loss ``Σ o·g`` for a fixed
  random ``g``, gradients w.r.t. f, u, v by ``torch.autograd.grad``. The time is the median of
  several repetitions after warm-up (wall clock in milliseconds; CUDA synchronized; the process
  CPU time is kept too); the forward alone (no graph) is timed the same way. At each N the
  ALUs' repetitions are interleaved, so that a change of load on a shared machine affects them
  alike. Every ALU's output is compared with the dense one's where dense fits
  (``max_diff_vs_dense``). A dense table that would exceed its memory limit is not built: the
  row says why.
* **Memory**: the bytes of the ALU's own tensors (table, index tables, kept scratch buffers)
  and the peak increase during one forward + backward (after a one-row warm-up call). On CUDA
  that is ``torch.cuda.max_memory_allocated``. On CPU (torch allocations are invisible to
  ``tracemalloc``) it is the peak resident-set increase (``VmHWM`` after resetting it, else
  ``ru_maxrss``) in a fresh Python process that builds the ALU and runs it
  (``memory="subprocess"``, the default), because in the benchmark's own process memory freed
  by earlier measurements is reused and hides the peak. ``"sampled"`` samples the resident set
  of this process every 1 ms instead (a lower bound; no subprocess).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..isa.registry import TABLE_OPS
from ..lang.errors import UsageError
from ..machine.alu import ALUS, make_alu
from .timing import sync, timed

__all__ = ["QUICK_SIZES", "SIZES", "AluRow", "bench_alu", "bench_size", "memory_probe"]

SIZES = (32, 64, 128, 256, 512, 1024)
QUICK_SIZES = (32, 64, 128)
_MIB = 1 << 20


@dataclass
class AluRow:
    """One (ALU, N) cell of the benchmark."""

    alu: str
    n: int
    status: str  # "ok" | "refused" | "error"
    fwd_bwd_ms: float | None = None
    fwd_ms: float | None = None
    cpu_ms: float | None = None  # process CPU time of forward + backward (all threads)
    reps: int = 0
    build_ms: float | None = None
    max_diff_vs_dense: float | None = None  # max |o − o_dense| on the benchmark's inputs
    tensors_mib: float | None = None  # the ALU's own buffers and parameters
    peak_mib: float | None = None  # peak increase during forward + backward
    note: str = ""
    times_ms: list[float] = field(default_factory=list)


class PeakMemory:
    """Peak memory increase over the block: CUDA allocator peak, or sampled resident set (CPU)."""

    def __init__(self, device: torch.device, interval: float = 0.001):
        self.device, self.interval = device, interval
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):  # not Linux: the lifetime peak, a coarse bound
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss() - self.base)
            time.sleep(self.interval)

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
        else:
            self.base = self.rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device) - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.rss() - self.base)


def _interleaved(fns: dict[str, Callable[[], object]], device: torch.device, warmup: int,
                 reps: int, budget_s: float) -> dict[str, list[tuple[float, float]]]:
    """Times of ``reps`` rounds, each calling every function once in turn (so that a change
    of load on a shared machine hits every ALU alike), after ``warmup`` rounds; fewer rounds
    (at least 3) when ``reps`` would exceed ``budget_s``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
            sync(device)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    start = time.perf_counter()
    for i in range(reps):
        for name, fn in fns.items():
            times[name].append(timed(fn, device))
        if i >= 2 and time.perf_counter() - start > budget_s:
            break
    return times


def bench_size(n: int, alus: tuple[str, ...] = ALUS, *, batch: int = 32,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
               warmup: int = 2, reps: int = 10, budget_s: float = 20.0,
               seed: int = 0, memory: str = "subprocess") -> list[AluRow]:
    """Forward + backward time and memory of the ALUs at one size (see the module docstring).
    Every ALU gets the same inputs; their repetitions are interleaved."""
    device = torch.device(device)
    rows: dict[str, AluRow] = {}
    built: dict[str, torch.nn.Module] = {}
    for name in alus:
        t0 = time.perf_counter()
        try:
            built[name] = make_alu(name, n, dtype=dtype, device=device)
        except UsageError as e:
            rows[name] = AluRow(name, n, "refused", note=str(e))
            continue
        rows[name] = AluRow(name, n, "ok", build_ms=(time.perf_counter() - t0) * 1e3)
    gen = torch.Generator().manual_seed(seed)

    def soft(*shape: int) -> torch.Tensor:
        x = torch.softmax(torch.randn(*shape, generator=gen, dtype=dtype), -1)
        return x.to(device).requires_grad_()

    f, u, v = soft(batch, len(TABLE_OPS)), soft(batch, n), soft(batch, n)
    g = torch.randn(batch, n, generator=gen, dtype=dtype).to(device)

    def forward_backward(alu) -> Callable[[], object]:
        return lambda: torch.autograd.grad((alu(f, u, v) * g).sum(), (f, u, v))

    def forward(alu) -> Callable[[], object]:
        def run():
            with torch.no_grad():  # f still requires grad: no op is skipped
                alu(f, u, v)
        return run

    probe = {}
    with torch.no_grad():
        outputs = {name: alu(f, u, v).double() for name, alu in built.items()}
    try:
        both = _interleaved({k: forward_backward(a) for k, a in built.items()}, device, warmup,
                            reps, budget_s)
        fwd = _interleaved({k: forward(a) for k, a in built.items()}, device, 1, reps,
                           budget_s / 4)
        for name, alu in built.items():
            if memory == "subprocess" and device.type == "cpu":
                probe = _probe_in_subprocess(name, n, batch, dtype)
            elif memory != "off":
                with PeakMemory(device) as mem:  # apart from timing: the sampler takes the GIL
                    forward_backward(alu)()
                probe = {"peak_mib": mem.peak / _MIB}
            row = rows[name]
            row.fwd_bwd_ms = statistics.median(t for t, _ in both[name])
            row.cpu_ms = statistics.median(c for _, c in both[name])
            row.fwd_ms = statistics.median(t for t, _ in fwd[name])
            row.reps = len(both[name])
            row.peak_mib = probe.get("peak_mib")
            row.tensors_mib = _own_bytes(alu) / _MIB
            if "error" in probe:
                row.note = f"memory probe failed: {probe['error']}"
            row.times_ms = [round(t, 3) for t, _ in both[name]]
            if "dense" in outputs:
                row.max_diff_vs_dense = float((outputs[name] - outputs["dense"]).abs().max())
    except (RuntimeError, MemoryError) as e:  # e.g. CUDA out of memory: report, go on
        for name in built:
            rows[name] = AluRow(name, n, "error",
                                note=f"{type(e).__name__}: {str(e).splitlines()[0]}")
    finally:
        built.clear()
    return [rows[name] for name in alus]


def _own_bytes(alu: torch.nn.Module) -> int:
    """Bytes of the ALU's buffers, parameters and kept scratch buffers."""
    tensors = sum(t.numel() * t.element_size() for t in [*alu.buffers(), *alu.parameters()])
    return tensors + getattr(alu, "scratch_bytes", lambda: 0)()


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def memory_probe(name: str, n: int, batch: int, dtype: torch.dtype) -> dict:
    """In a fresh process: the peak resident-set increase of one forward + backward.

    On Linux the high-water mark is reset first (``/proc/self/clear_refs``), so building the
    ALU cannot hide the peak; elsewhere it is the ``ru_maxrss`` increase."""
    import resource

    alu = make_alu(name, n, dtype=dtype)
    gen = torch.Generator().manual_seed(0)
    f, u, v = (torch.softmax(torch.randn(batch, k, generator=gen, dtype=dtype), -1)
               .requires_grad_() for k in (len(TABLE_OPS), n, n))
    # one call on a single row first: lazy one-time set-up (autograd engine, FFT plans,
    # libraries) is not the ALU's memory
    torch.autograd.grad(alu(f[:1], u[:1], v[:1]).square().sum(), (f, u, v))
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak RSS (VmHWM) to the current RSS
        before = _status_kib("VmRSS")
    except OSError:
        before = None
    if before is None:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    torch.autograd.grad(alu(f, u, v).square().sum(), (f, u, v))
    after = _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_mib": max(0, after - before) / 1024, "own_mib": _own_bytes(alu) / _MIB}


def _probe_in_subprocess(name: str, n: int, batch: int, dtype: torch.dtype) -> dict:
    import subprocess

    args = json.dumps([name, n, batch, str(dtype).replace("torch.", "")])
    code = ("import json, sys, torch; from neuralc.bench.alu import memory_probe; "
            f"a = json.loads({args!r}); torch.set_num_threads({torch.get_num_threads()}); "
            "print(json.dumps(memory_probe(a[0], a[1], a[2], getattr(torch, a[3]))))")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=600, check=False)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as e:
        return {"error": f"{type(e).__name__}: {e}"}


def bench_alu(name: str, n: int, **options) -> AluRow:
    """:func:`bench_size` for one ALU."""
    return bench_size(n, (name,), **options)[0]
