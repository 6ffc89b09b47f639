"""The whole benchmark of ``neuralc bench``: the ALUs (:mod:`.alu`) and the machine
(:mod:`.machine`) in one run, as a dict, as markdown, saved as ``bench.json`` and ``bench.md``.

:func:`run_bench` returns the report; :func:`format_report` renders it; :func:`save_report`
writes it. Every time is in milliseconds. The ratios the docs quote are computed from one run:
dense ÷ sparse (and ÷ circuit) at each N from the interleaved repetitions, and each ALU's
growth from its smallest measured N (e.g. sparse at 1024 ÷ at 128).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch

from ..lang.errors import UsageError
from ..machine.alu import ALUS
from .alu import SIZES, bench_size
from .machine import bench_machine

__all__ = ["format_report", "machine_section", "run_bench", "save_report"]


def machine_section(device: torch.device, dtype: torch.dtype, quick: bool,
                    log: Callable[[str], None]) -> dict:
    """Machine and reference-interpreter throughput (:func:`.machine.bench_machine`)."""
    log("machine: steps per second ...")
    try:
        result = bench_machine(device=device, dtype=dtype, quick=quick)
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
    """Per N: how many times faster than dense sparse and circuit are (fwd+bwd), and how many
    times longer each ALU takes than at the base size (128 if measured, else the smallest)."""
    by = {(r["alu"], r["n"]): r for r in rows if r["status"] == "ok"}
    sizes = sorted({r["n"] for r in rows})
    base = 128 if 128 in sizes else (sizes[0] if sizes else None)
    out = []
    for n in sizes:
        dense = by.get(("dense", n))
        entry: dict = {"n": n, "base_n": base}
        for name in ("sparse", "circuit"):
            other = by.get((name, n))
            entry[f"dense_over_{name}"] = (dense["fwd_bwd_ms"] / other["fwd_bwd_ms"]
                                           if dense and other else None)
        for name in ALUS:
            here, there = by.get((name, n)), by.get((name, base))
            entry[f"{name}_over_base"] = (here["fwd_bwd_ms"] / there["fwd_bwd_ms"]
                                          if here and there else None)
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
    base = report["ratios"][0]["base_n"] if report["ratios"] else None
    lines += ["", f"Growth: each ALU's forward + backward time ÷ its time at N = {base}:", ""]
    lines.append("| " + " | ".join(["N", *alus]) + " |")
    lines.append("|" + "|".join(["---:"] * (len(alus) + 1)) + "|")
    for n in sizes:
        growth = [ratios.get(n, {}).get(f"{a}_over_base") for a in alus]
        lines.append("| " + " | ".join([str(n), *(_fmt(g, ".1f") + "×" * bool(g)
                                                  for g in growth)]) + " |")
    diffs = [f"{r['alu']} at n={r['n']}: {r['max_diff_vs_dense']:.1e}" for r in report["alu"]
             if r.get("max_diff_vs_dense") is not None and r["alu"] != "dense"]
    if diffs:
        lines += ["", "Largest |output − dense output| on the same inputs: " + "; ".join(diffs)
                  + "."]
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
