"""Profile of one training step of ``neuralc train TASK``, split by part.

The model, tokenizer, data and optimizer are built exactly as :func:`neuralc.lm.training.train`
builds them with its defaults (llama-tiny, batch 16, one torch thread); then each step is timed
by part:

- ``data``: drawing and collating one batch from the training loader (tokenization is done once
  per run, before the first epoch, and is reported apart as ``tokenize_once``);
- ``backbone``, ``selection`` (selection head, word votes, attention pool), ``parser`` (pointer
  heads), ``machine`` (the library computer): forward time of those modules (forward hooks);
- ``loss & glue``: the rest of the forward (pooling, embeddings, the log, the losses);
- ``backward``: ``loss.backward()``; with ``split_backward`` the machine's and the backbone's
  shares are taken from ``torch.profiler`` (autograd nodes attributed by their forward scope);
- ``optimizer``: ``zero_grad``, gradient clipping, ``AdamW.step`` and the scheduler.

Every part has a wall time and a process CPU time (ms, median over the measured steps); the
machine is shared, so the CPU time is the steadier. Run: ``python -m neuralc.bench.training
[TASK ...] [--steps N] [--warmup N] [--train-size N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import torch

__all__ = ["PARTS", "format_profile", "main", "profile_training"]

PARTS = ("data", "backbone", "selection", "parser", "machine", "loss & glue", "backward",
         "optimizer")


class _Clock:
    """Accumulates (wall, cpu) seconds per part for the current step."""

    def __init__(self):
        self.step: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self._open: dict[str, tuple[float, float]] = {}

    def start(self, part: str) -> None:
        self._open[part] = (time.perf_counter(), time.process_time())

    def stop(self, part: str) -> None:
        wall, cpu = self._open.pop(part)
        acc = self.step[part]
        acc[0] += time.perf_counter() - wall
        acc[1] += time.process_time() - cpu

    def hook(self, module: torch.nn.Module, part: str) -> None:
        module.register_forward_pre_hook(lambda *_: self.start(part))
        module.register_forward_hook(lambda *_: self.stop(part))


def _setup(task_name: str, train_size: int | None, seed: int, options: dict,
           fused: bool = False, all_ops: bool = False):
    """(model, loader, optimizer, scheduler, params, tokenize seconds, examples) as ``train``
    builds them. ``fused``: the same AdamW groups with ``fused=True`` (one vectorized kernel per
    step instead of a loop of small ops), a candidate cut measured beside today's. ``all_ops``:
    the library computer's ALU computes every table op, as before it computed only the ops of
    its image (the earlier code, for the side-by-side measurement)."""
    from torch.utils.data import DataLoader, RandomSampler, TensorDataset

    from ..lm.training import (
        TrainOptions,
        _build,
        _optimizer,
        _schedule,
        _splits,
        encode_examples,
    )

    opts = TrainOptions(task=task_name, train_size=train_size, seed=seed, **options)
    splits, task = _splits(opts)
    torch.manual_seed(opts.seed)
    model, tok = _build(opts, task, [e.text for e in splits.train], 0)
    if all_ops:
        from ..machine.alu import make_alu

        machine = model.computer.computer.computer  # LibraryCalls → LibraryComputer → machine
        machine.alu = make_alu(model.config.alu, model.config.n,
                               dtype=machine.program.instr.dtype)
    t = time.process_time()
    train_t = encode_examples(tok, splits.train, model.config.outputs)
    tokenize = time.process_time() - t
    optimizer, params = _optimizer(model, opts)
    if fused:
        groups = [{k: v for k, v in g.items() if k not in ("fused", "foreach")}
                  for g in optimizer.param_groups]
        optimizer = torch.optim.AdamW(groups, fused=True)
    dataset = TensorDataset(*train_t)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=min(opts.batch_size, len(dataset)), drop_last=True,
                        sampler=RandomSampler(dataset, generator=generator))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule(opts.epochs * len(loader), opts.warmup))
    return model, loader, optimizer, scheduler, params, tokenize, len(dataset)


def _backward_split(model, batch) -> dict[str, float]:
    """CPU ms of the backward's autograd nodes by the forward scope that made them (one step,
    under ``torch.profiler``): ``machine``, ``backbone`` and ``other``."""
    from torch.profiler import ProfilerActivity, profile, record_function

    ids, mask, labels = batch
    scopes = {"machine": model.computer, "backbone": model.backbone}
    handles = []
    for name, module in scopes.items():
        cm = {}

        def pre(*_, name=name, cm=cm):
            cm["r"] = record_function(f"part::{name}")
            cm["r"].__enter__()

        def post(*_, cm=cm):
            cm["r"].__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        model.zero_grad(set_to_none=True)
        with record_function("part::backward"):
            out.loss.backward()
    for h in handles:
        h.remove()
    model.zero_grad(set_to_none=True)
    # autograd nodes run on the backward; their forward scope is found by sequence number
    events = prof.events()
    seq_scope: dict[int, str] = {}
    ranges = {name: [(e.time_range.start, e.time_range.end) for e in events
                     if e.name == f"part::{name}"] for name in scopes}
    for e in events:
        seq = getattr(e, "sequence_nr", -1)
        if seq is None or seq < 0 or e.name.startswith(("part::", "autograd::engine")):
            continue
        for name, spans in ranges.items():
            if any(a <= e.time_range.start <= b for a, b in spans):
                seq_scope.setdefault(seq, name)
    split = defaultdict(float)
    back = next(e for e in events if e.name == "part::backward")
    for e in events:
        if e.name.startswith("autograd::engine::evaluate_function") and \
                back.time_range.start <= e.time_range.start <= back.time_range.end:
            seq = getattr(e, "sequence_nr", -1)
            split[seq_scope.get(seq, "other")] += e.cpu_time_total / 1e3
    return dict(split)


def profile_training(task: str = "arithmetic", *, steps: int = 10, warmup: int = 3,
                     train_size: int | None = None, seed: int = 0, split_backward: bool = True,
                     fused: bool = False, all_ops: bool = False, **options) -> dict:
    """Median (wall ms, CPU ms) of each part of one training step (:data:`PARTS`), the step
    total, steps per epoch, and the epoch time those imply. ``options``: :class:`TrainOptions`
    fields (model options; ``batch_size``); ``fused``, ``all_ops``: the variants of :func:`_setup`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, loader, optimizer, scheduler, params, tokenize, examples = _setup(
            task, train_size, seed, options, fused, all_ops)
        clock = _Clock()
        clock.hook(model.backbone, "backbone")
        clock.hook(model.parser, "parser")
        clock.hook(model.computer, "machine")
        clock.hook(model.selection_head, "selection")
        model.train()
        rows, first = [], None
        it = iter(loader)
        for i in range(warmup + steps):
            clock.step.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            clock.start("data")
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            clock.stop("data")
            first = first or batch
            ids, mask, labels = batch
            clock.start("forward")
            out = model(input_ids=ids, attention_mask=mask, labels=labels)
            clock.stop("forward")
            optimizer.zero_grad(set_to_none=True)
            clock.start("backward")
            out.loss.backward()
            clock.stop("backward")
            clock.start("optimizer")
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            out.loss.item()
            clock.stop("optimizer")
            total = (time.perf_counter() - w0, time.process_time() - c0)
            if i >= warmup:
                s = {k: tuple(v) for k, v in clock.step.items()}
                inner = [s.get(k, (0.0, 0.0)) for k in ("backbone", "selection", "parser",
                                                         "machine")]
                s["loss & glue"] = tuple(s["forward"][j] - sum(x[j] for x in inner)
                                         for j in (0, 1))
                s["total"] = total
                rows.append(s)
        med = {part: tuple(statistics.median(r.get(part, (0.0, 0.0))[j] * 1e3 for r in rows)
                           for j in (0, 1)) for part in (*PARTS, "forward", "total")}
        result = {"task": task, "variant": _variant(fused, all_ops), "examples": examples, "batch": loader.batch_size,
                  "steps_per_epoch": len(loader), "measured_steps": steps, "ms": med,
                  "tokenize_once_ms": tokenize * 1e3,
                  "epoch_s": med["total"][1] * len(loader) / 1e3,
                  "parameters": sum(p.numel() for p in params)}
        if split_backward:
            result["backward_split_cpu_ms"] = _backward_split(model, first)
        return result
    finally:
        torch.set_num_threads(threads)


def _variant(fused: bool, all_ops: bool) -> str:
    return (("every ALU op" if all_ops else "the image's ALU ops") +
            (", fused AdamW" if fused else ", AdamW"))


def format_profile(result: dict) -> str:
    """A Markdown table of one :func:`profile_training` result."""
    ms = result["ms"]
    total = ms["total"][1] or 1.0
    lines = [(f"**{result['task']}**, {result['variant']} — "
             f"{result['examples']} training examples, batch "
             f"{result['batch']}, {result['steps_per_epoch']} steps per epoch; median of "
             f"{result['measured_steps']} steps; epoch ≈ {result['epoch_s']:.1f} s of CPU "
             f"(steps only; tokenization once per run: {result['tokenize_once_ms']:.0f} ms)"),
             "", "| part | wall ms | CPU ms | share of CPU |", "|---|---:|---:|---:|"]
    for part in (*PARTS, "total"):
        w, c = ms[part]
        lines.append(f"| {part} | {w:.1f} | {c:.1f} | {100 * c / total:.0f}% |")
    split = result.get("backward_split_cpu_ms")
    if split:
        lines += ["", "Backward by forward scope (torch.profiler, one step, CPU ms): " +
                  ", ".join(f"{k} {v:.1f}" for k, v in sorted(split.items(),
                                                               key=lambda kv: -kv[1]))]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m neuralc.bench.training",
                                description="profile one training step of built-in tasks")
    p.add_argument("tasks", nargs="*", default=["arithmetic", "fibonacci"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--no-backward-split", action="store_true")
    p.add_argument("--compare", action="store_true",
                   help="profile each task as before (every ALU op), as now (the image's ops) "
                        "and with the fused AdamW too, in the same run")
    args = p.parse_args(argv)
    variants = ([(False, True), (False, False), (True, False)] if args.compare else
                [(False, False)])
    for task in args.tasks:
        totals = {}
        for fused, all_ops in variants:
            result = profile_training(task, steps=args.steps, warmup=args.warmup,
                                      train_size=args.train_size, fused=fused, all_ops=all_ops,
                                      split_backward=not args.no_backward_split)
            totals[result["variant"]] = result["ms"]["total"][1]
            print(format_profile(result), end="\n\n", flush=True)
        if args.compare:
            before = totals[_variant(False, True)]
            print(f"{task}: step CPU ms " + ", ".join(
                f"{k} {v:.1f} ({before / v:.2f}x)" for k, v in totals.items()) + "\n",
                flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
