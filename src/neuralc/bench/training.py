"""Profile of one training step of ``neuralc train TASK``, split by part.

The model, tokenizer, data and optimizer are built exactly as :func:`neuralc.lm.training.train`
builds them with its defaults (llama-tiny, batch 16, one torch thread); then each step is timed
by part:

- ``data``: drawing and collating one batch from the training loader (tokenization is done once
  per run, before the first epoch, and is reported apart as ``tokenize_once``);
- ``backbone``, ``selection`` (selection head, word votes, attention pool), ``parser`` (pointer
  heads), ``machine`` (the library computer): forward time of those modules (forward hooks);
- ``loss & glue``: the rest of the forward (the token embedding lookup, pooling, the log, the
  losses);
- ``backward``: ``loss.backward()``; with ``split_backward`` the machine's and the backbone's
  shares are taken from ``torch.profiler`` (autograd nodes attributed by their forward scope);
- ``optimizer``: ``zero_grad``, gradient clipping, ``AdamW.step`` and the scheduler.

Every part has a wall time and a process CPU time (ms, median over the measured steps); the
machine is shared, so the CPU time is the steadier. Run: ``python -m neuralc.bench.training
[TASK ...] [--steps N] [--warmup N] [--train-size N] [--tokenizer T] [--full-vocabulary]
[--compare]``; ``--compare`` measures the variants of :data:`VARIANTS` side by side.
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
           loop_adamw: bool = False, all_ops: bool = False, two_lookups: bool = False):
    """(model, loader, optimizer, scheduler, params, tokenize seconds, examples) as ``train``
    builds them; ``options``: :class:`TrainOptions` fields (``trim_vocabulary``,
    ``tokenizer``, ...). Three switches bring back the earlier code, for the side-by-side
    measurement: ``loop_adamw``, the same AdamW groups as a loop of per-tensor ops (torch's
    CPU default) instead of the fused kernel; ``all_ops``, the library computer's ALU computes
    every table op, not only its image's; ``two_lookups``, the backbone looks its tokens up
    itself and the heads' embeddings are a second lookup of the same table."""
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
    if two_lookups:
        _two_lookups(model)
    t = time.process_time()
    train_t = encode_examples(tok, splits.train, model.config.outputs)
    tokenize = time.process_time() - t
    optimizer, params = _optimizer(model, opts)
    if loop_adamw:
        groups = [{k: v for k, v in g.items() if k not in ("fused", "foreach")}
                  for g in optimizer.param_groups]
        optimizer = torch.optim.AdamW(groups, fused=False, foreach=False)
    dataset = TensorDataset(*train_t)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=min(opts.batch_size, len(dataset)), drop_last=True,
                        sampler=RandomSampler(dataset, generator=generator))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule(opts.epochs * len(loader), opts.warmup))
    return model, loader, optimizer, scheduler, params, tokenize, len(dataset)


def _two_lookups(model) -> None:
    """The earlier forward of ``model``: the backbone looks the tokens up itself, and the
    embeddings the heads read are a second lookup (two dense embedding gradients)."""

    def encode(input_ids, attention_mask):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        rows = model.token_rows(input_ids)
        H = model.backbone(input_ids=rows, attention_mask=attention_mask).last_hidden_state
        return H, attention_mask, model.backbone.get_input_embeddings()(rows), rows

    model._encode = encode


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
                     loop_adamw: bool = False, all_ops: bool = False, two_lookups: bool = False,
                     **options) -> dict:
    """Median (wall ms, CPU ms) of each part of one training step (:data:`PARTS`), the step
    total, steps per epoch, and the epoch time those imply. ``options``: :class:`TrainOptions`
    fields (model options, ``tokenizer``, ``batch_size``); ``loop_adamw``, ``all_ops``,
    ``two_lookups``: the earlier code (:func:`_setup`)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, loader, optimizer, scheduler, params, tokenize, examples = _setup(
            task, train_size, seed, options, loop_adamw, all_ops, two_lookups)
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
        variant = ", ".join([
            "every ALU op" if all_ops else "the image's ALU ops",
            "loop AdamW" if loop_adamw else "fused AdamW",
            (f"vocabulary trimmed to {model.backbone.config.vocab_size} rows"
             if model.config.vocabulary else
             f"full vocabulary ({model.backbone.config.vocab_size} rows)"),
            "two embedding lookups" if two_lookups else "one embedding lookup"])
        result = {"task": task, "variant": variant, "examples": examples,
                  "batch": loader.batch_size,
                  "steps_per_epoch": len(loader), "measured_steps": steps, "ms": med,
                  "tokenize_once_ms": tokenize * 1e3,
                  "epoch_s": med["total"][1] * len(loader) / 1e3,
                  "parameters": sum(p.numel() for p in params)}
        if split_backward:
            result["backward_split_cpu_ms"] = _backward_split(model, first)
        return result
    finally:
        torch.set_num_threads(threads)


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


# --compare: the code before the training-step cuts, today's code with --full-vocabulary, and
# today's defaults, side by side in one run
VARIANTS = {
    "before": {"loop_adamw": True, "all_ops": True, "two_lookups": True,
               "trim_vocabulary": False},
    "full vocabulary": {"trim_vocabulary": False},
    "machine posterior": {"pointer_posterior": "machine"},
    "now": {},
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m neuralc.bench.training",
                                description="profile one training step of built-in tasks")
    p.add_argument("tasks", nargs="*", default=["arithmetic", "fibonacci"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--tokenizer", default=None, help="as neuralc train's (default: llama3)")
    p.add_argument("--full-vocabulary", action="store_true",
                   help="as neuralc train's: every token of the tokenizer keeps its row")
    p.add_argument("--no-backward-split", action="store_true")
    p.add_argument("--compare", action="store_true",
                   help="profile each task as before the training-step cuts (every ALU op, "
                        "loop AdamW, full vocabulary looked up twice), as now with "
                        "--full-vocabulary, as now with --pointer-posterior machine and as "
                        "now, in the same run")
    args = p.parse_args(argv)
    base = {"tokenizer": args.tokenizer} if args.tokenizer else {}
    variants = (VARIANTS if args.compare else {"full vocabulary": VARIANTS["full vocabulary"]}
                if args.full_vocabulary else {"now": VARIANTS["now"]})
    for task in args.tasks:
        totals = {}
        for name, variant in variants.items():
            result = profile_training(task, steps=args.steps, warmup=args.warmup,
                                      train_size=args.train_size,
                                      split_backward=not args.no_backward_split,
                                      **base, **variant)
            totals[name] = (result["ms"]["total"][1], result["epoch_s"])
            print(f"{name}: " + format_profile(result), end="\n\n", flush=True)
        if args.compare:
            before = totals["before"][0]
            print(f"{task}: step CPU ms (epoch s) " + ", ".join(
                f"{k} {v:.1f} ({e:.1f} s, {before / v:.2f}x)" for k, (v, e) in totals.items())
                + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
