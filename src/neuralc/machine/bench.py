"""Benchmark of the ALUs and the machine (``neuralc bench``; a command, not a test).

Measured in one run, on one machine, with the same settings for every ALU:

* **ALU forward + backward** of ``dense``, ``sparse`` and ``circuit`` at N = 32 … 512 (and 1024
  for the ALUs whose size allows it), batch 32: ``f`` (B, A_t), ``u``, ``v`` (B, N) soft
  distributions that require gradients, loss ``Σ o·g`` for a fixed random ``g``, gradients
  w.r.t. f, u, v by ``torch.autograd.grad``. The time is the median of several repetitions after
  warm-up (wall clock; CUDA synchronized; the process CPU time is kept too); the forward alone
  (no graph) is timed the same way. At each N the ALUs' repetitions are interleaved, so that
  a change of load on a shared machine affects them alike.
  A dense table that would exceed its memory limit is not built: the row says why.
* **Memory**: the bytes of the ALU's own tensors (table, index tables, kept scratch buffers)
  and the peak increase during one forward + backward (after a one-row warm-up call). On CUDA
  that is ``torch.cuda.max_memory_allocated``. On CPU (torch allocations are invisible to
  ``tracemalloc``) it is the peak resident-set increase (``VmHWM`` after resetting it, else
  ``ru_maxrss``) in a fresh Python process that builds the ALU and runs it
  (``memory="subprocess"``, the default), because in the benchmark's own process memory freed
  by earlier measurements is reused and hides the peak. ``"sampled"`` samples the resident set
  of this process every 1 ms instead (a lower bound; no subprocess).
* **Machine** steps per second (batch 1 and 256) and reference-interpreter steps per second,
  from :func:`neuralc.machine.bench_machine` when the machine package provides it (a hook:
  ``bench_machine(device=..., dtype=..., quick=...)`` returning a dict or a list of row dicts).

:func:`run_bench` returns the whole report as a dict; :func:`format_report` renders it as
markdown; :func:`save_report` writes ``bench.json`` and ``bench.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from neuralc.isa.registry import TABLE_OPS
from neuralc.lang.errors import UsageError

from .alu import ALUS, make_alu

__all__ = [
    "QUICK_SIZES",
    "SIZES",
    "AluRow",
    "bench_alu",
    "bench_size",
    "format_report",
    "machine_section",
    "run_bench",
    "save_report",
]

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
    build_s: float | None = None
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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """(wall ms, process CPU ms) of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    return (time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3


def _interleaved(fns: dict[str, Callable[[], object]], device: torch.device, warmup: int,
                 reps: int, budget_s: float) -> dict[str, list[tuple[float, float]]]:
    """Times of ``reps`` rounds, each calling every function once in turn (so that a change
    of load on a shared machine hits every ALU alike), after ``warmup`` rounds; fewer rounds
    (at least 3) when ``reps`` would exceed ``budget_s``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
            _sync(device)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    start = time.perf_counter()
    for i in range(reps):
        for name, fn in fns.items():
            times[name].append(_timed(fn, device))
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
        rows[name] = AluRow(name, n, "ok", build_s=time.perf_counter() - t0)
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
    code = ("import json, sys, torch; from neuralc.machine.bench import memory_probe; "
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


def machine_section(device: torch.device, dtype: torch.dtype, quick: bool,
                    log: Callable[[str], None]) -> dict:
    """Machine and reference-interpreter throughput from ``neuralc.machine.bench_machine``."""
    from neuralc import machine

    hook = getattr(machine, "bench_machine", None)
    if hook is None:
        return {"status": "missing",
                "note": "neuralc.machine.bench_machine is not defined yet: no machine steps/s"}
    log("machine: steps per second (neuralc.machine.bench_machine) ...")
    try:
        result = hook(device=device, dtype=dtype, quick=quick)
    except Exception as e:  # noqa: BLE001 -- the ALU numbers must survive a broken hook
        return {"status": "error", "note": f"{type(e).__name__}: {e}"}
    return {"status": "ok", "result": result}


def _environment(device: torch.device, dtype: torch.dtype, batch: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    env = {
        "cpu": cpu, "cpu_count": os.cpu_count(), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
        "device": str(device), "dtype": str(dtype).replace("torch.", ""), "batch": batch,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    if hasattr(os, "getloadavg"):
        env["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    return env


def run_bench(*, sizes: tuple[int, ...] = SIZES, alus: tuple[str, ...] = ALUS, batch: int = 32,
              device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
              reps: int = 10, warmup: int = 2, budget_s: float = 20.0, quick: bool = False,
              machine: bool = True, memory: str = "subprocess",
              log: Callable[[str], None] | None = None) -> dict:
    """The whole benchmark as a dict: ``environment``, ``alu`` rows, ``ratios``, ``machine``."""
    device = torch.device(device)
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    report: dict = {"environment": _environment(device, dtype, batch), "alu": []}
    report["environment"]["memory"] = memory
    for i, n in enumerate(sizes, 1):
        log(f"[{i}/{len(sizes)}] n={n}: {', '.join(alus)} ...")
        for row in bench_size(n, alus, batch=batch, device=device, dtype=dtype, warmup=warmup,
                              reps=reps, budget_s=budget_s, memory=memory):
            report["alu"].append(asdict(row))
            if row.status == "ok":
                log(f"    {row.alu:7s} fwd+bwd {row.fwd_bwd_ms:10.2f} ms  fwd {row.fwd_ms:9.2f} ms"
                    f"  peak +{_fmt(row.peak_mib, '.1f')} MiB  ({row.reps} reps)")
            else:
                log(f"    {row.alu:7s} {row.status}: {row.note}")
    report["ratios"] = _ratios(report["alu"])
    report["machine"] = (machine_section(device, dtype, quick, log) if machine
                         else {"status": "skipped"})
    if hasattr(os, "getloadavg"):
        report["environment"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def _ratios(rows: list[dict]) -> list[dict]:
    """Per N: how many times faster than dense sparse and circuit are (fwd+bwd)."""
    by = {(r["alu"], r["n"]): r for r in rows}
    out = []
    for n in sorted({r["n"] for r in rows}):
        dense = by.get(("dense", n))
        entry: dict = {"n": n}
        for name in ("sparse", "circuit"):
            other = by.get((name, n))
            ok = dense and other and dense["status"] == other["status"] == "ok"
            entry[f"dense_over_{name}"] = (dense["fwd_bwd_ms"] / other["fwd_bwd_ms"]
                                           if ok else None)
        out.append(entry)
    return out


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "—" if x is None else format(x, spec)


def format_report(report: dict) -> str:
    """The report as markdown: environment, the ALU table, the machine section."""
    env = report["environment"]
    rows = {(r["alu"], r["n"]): r for r in report["alu"]}
    sizes = sorted({r["n"] for r in report["alu"]})
    alus = [a for a in ALUS if any(r["alu"] == a for r in report["alu"])]
    ratios = {r["n"]: r for r in report["ratios"]}
    lines = [
        f"Machine: {env['cpu']} ({env['cpu_count']} cores"
        + (f", {env['gpu']}" if "gpu" in env else "") + f"), torch {env['torch']} "
        f"({env['torch_threads']} threads), device {env['device']}, {env['dtype']}, "
        f"batch {env['batch']}, {env['time']}.",
    ]
    if "load_average_start" in env:
        lines[0] += (f" Load average (1/5/15 min) at start {env['load_average_start']}, "
                     f"at end {env.get('load_average_end', '?')}.")
    lines += ["", "ALU forward + backward, median ms (forward alone in parentheses):", ""]
    head = ["N", *alus, "dense ÷ sparse", "dense ÷ circuit"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---:"] * len(head)) + "|")
    for n in sizes:
        cells = [str(n)]
        for a in alus:
            r = rows.get((a, n))
            if r is None:
                cells.append("")
            elif r["status"] == "ok":
                cells.append(f"{r['fwd_bwd_ms']:.2f} ({r['fwd_ms']:.2f})")
            else:
                cells.append(r["status"])
        rt = ratios.get(n, {})
        cells += [_fmt(rt.get("dense_over_sparse"), ".1f") + "×" * bool(rt.get("dense_over_sparse")),
                  _fmt(rt.get("dense_over_circuit"), ".1f") + "×" * bool(rt.get("dense_over_circuit"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Process CPU time of forward + backward, median ms (all threads; less "
              + "sensitive than wall time to other processes on a shared machine):", ""]
    lines.append("| " + " | ".join(["N", *alus]) + " |")
    lines.append("|" + "|".join(["---:"] * (len(alus) + 1)) + "|")
    for n in sizes:
        cells = [str(n)]
        for a in alus:
            r = rows.get((a, n))
            cells.append(_fmt(r.get("cpu_ms")) if r and r["status"] == "ok"
                         else (r["status"] if r else ""))
        lines.append("| " + " | ".join(cells) + " |")
    how = {"subprocess": "peak RSS increase in a fresh process",
           "sampled": "sampled resident-set increase in this process (a lower bound)",
           "off": "not measured"}.get(env.get("memory", ""), "")
    if env["device"].startswith("cuda"):
        how = "torch.cuda.max_memory_allocated increase"
    title = f"Memory, MiB: the ALU's own tensors / peak increase during forward + backward ({how}):"
    lines += ["", title, ""]
    head = ["N", *alus]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---:"] * len(head)) + "|")
    for n in sizes:
        cells = [str(n)]
        for a in alus:
            r = rows.get((a, n))
            ok = r is not None and r["status"] == "ok"
            cells.append(f"{r['tensors_mib']:.1f} / {_fmt(r['peak_mib'], '.1f')}" if ok
                         else (r["status"] if r else ""))
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r['alu']} at n={r['n']}: {r['note']}" for r in report["alu"] if r["note"]]
    if notes:
        lines += ["", "Not measured:", "", *notes]
    lines += ["", "Machine and reference interpreter:", "", *_format_machine(report["machine"])]
    return "\n".join(lines) + "\n"


def _format_machine(section: dict) -> list[str]:
    if section.get("status") != "ok":
        return [f"- {section.get('status')}: {section.get('note', '')}"]
    result = section["result"]
    rows = result.get("rows") if isinstance(result, dict) else result
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        out = ["| " + " | ".join(keys) + " |", "|" + "|".join(["---"] * len(keys)) + "|"]
        for r in rows:
            out.append("| " + " | ".join(
                _fmt(r.get(k), ".1f") if isinstance(r.get(k), float) else str(r.get(k, ""))
                for k in keys) + " |")
        extra = {k: v for k, v in result.items() if k != "rows"} if isinstance(result, dict) else {}
        return out + (["", json.dumps(extra)] if extra else [])
    return ["```", json.dumps(result, indent=2, default=str), "```"]


def save_report(report: dict, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` into ``out_dir`` (created if missing)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output folder {str(out)!r}: {e.strerror}") from e
    js, md = out / "bench.json", out / "bench.md"
    js.write_text(json.dumps(report, indent=2, default=str) + "\n")
    md.write_text(format_report(report))
    return js, md
