"""Training: answers-only cross-entropy, the evaluation protocol, exact resume, DDP.

Protocol: a run has train / validation / test splits (:mod:`neuralc.lm.data`). The tokenizer is
built from the training texts; every epoch is scored on validation; the test split is sealed
until the run's last step, then scored once (:mod:`neuralc.lm.evaluation`).

Reproducibility: the model is built from ``seed``; the order of the training data in epoch ``e``
is a permutation seeded by ``(seed, e)`` (``DistributedSampler.set_epoch``), so a run resumed from
the checkpoint of epoch ``e`` sees exactly the batches the uninterrupted run saw, and ends with
bit-identical weights (model, optimizer, scheduler and RNG states are all restored).

Under ``torchrun --nproc_per_node=N`` every process trains on its shard of each global batch
(``batch_size // N`` examples) with DistributedDataParallel (gloo on CPU, nccl on CUDA); only rank
0 evaluates and writes files.

Out folder: ``config.json`` + ``model.safetensors`` + tokenizer (a Hugging Face model folder, the
latest weights, for ``neuralc predict`` and ``from_pretrained``), ``checkpoint.safetensors``
(training state), ``run.json`` (the run's options), ``metrics.json`` (validation metrics per
epoch), ``curves.png`` and ``test.json`` (the one test score, at the end of the run).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field

import torch

from ..lang.errors import UsageError
from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .data import DataError, Splits, encode_examples, task_splits, user_splits
from .distributed import compare_replicas, device_for, init_distributed
from .evaluation import evaluate
from .tasks import get_task

__all__ = ["MODEL_OPTIONS", "TrainOptions", "backbone_name", "encode_examples", "evaluate",
           "model_options", "resume_options", "train"]


@dataclass
class TrainOptions:
    task: str | None = "arithmetic"  # a built-in task, or None for a user's data files
    data: str | None = None  # training file (JSON lines, :mod:`neuralc.lm.data`)
    validation: str | None = None  # None: a seeded part of the training data is held out
    test: str | None = None
    library: str | None = None  # the programs a user's data calls (None: the default library)
    # Model options: None is "NeuralCompilerConfig's default" (their one home, documented
    # there); only the options set reach the builder (MODEL_OPTIONS).
    backbone: str | None = None  # llama-tiny, minilm or a local model folder
    baseline: bool = False
    epochs: int = 10
    lr: float | None = None  # None: 1e-3, or 1e-4 for a pretrained backbone
    head_lr: float | None = None  # lr of the parser and answer heads; None: 3 × lr
    batch_size: int = 16
    seed: int = 0
    train_size: int | None = None
    validation_size: int | None = None  # built-in tasks; None: train size / 8
    test_size: int | None = None
    device: str = "cpu"
    out: str = "runs/train"
    tokenizer: str | None = None
    hidden: int | None = None
    parse_head: str | None = None  # pointer | pooled
    pointer: str | None = None  # attention (contextual) | ordinal (a hand-designed prior)
    pointer_context: int | None = None  # bidirectional layers before the pointer's keys
    selection_mode: str | None = None  # programs | superposition (the paper's form)
    posterior_weight: float | None = None  # the selection's answer-posterior loss (programs)
    pointer_posterior_weight: float | None = None  # the pointer's answer-posterior loss
    pointer_posterior: str | None = None  # exact (joint parses, sharp runs) | machine (soft runs)
    gate_bias: float | None = None  # initial bias of the ordinal pointer's gate
    copy_numbers: bool | None = None  # a hand-designed prior: number tokens denote their value
    alu: str | None = None  # sparse | dense | circuit
    trim_vocabulary: bool | None = None  # from scratch: only the training texts' token rows
    unknown_dropout: float | None = None  # training reads a word as the unknown row
    init_from: str | None = None  # a trained model folder: start from its fitting tensors
    weight_decay: float = 0.0
    warmup: float = 0.05  # fraction of all steps
    keep: str = "last"  # last | best: the weights kept and tested (best: on validation accuracy)
    patience: int | None = None  # stop after this many epochs without a better validation epoch
    minutes: float | None = None  # wall-clock budget for the training loop
    stop_after: int | None = None  # stop after this many epochs in this process (a "kill")
    progress: bool = True
    threads: int | None = 1  # torch CPU threads per process (None: torch's default)
    extra: dict = field(default_factory=dict)


# TrainOptions fields that are NeuralCompilerConfig fields (passed to the builder when set)
MODEL_OPTIONS = ("backbone", "parse_head", "pointer", "pointer_context", "selection_mode",
                 "posterior_weight", "pointer_posterior_weight", "pointer_posterior", "gate_bias",
                 "copy_numbers", "alu", "trim_vocabulary", "unknown_dropout")


def model_options(opts: TrainOptions) -> dict:
    """The model options of ``opts`` that are set: the builder's overrides of the config."""
    return {k: getattr(opts, k) for k in MODEL_OPTIONS if getattr(opts, k) is not None}


def backbone_name(opts: TrainOptions) -> str:
    """The run's backbone: the one set, or the config's default."""
    from .configuration import NeuralCompilerConfig

    return opts.backbone or NeuralCompilerConfig().backbone


def _schedule(total: int, warmup: float):
    w = max(1, int(total * warmup))

    def f(step: int) -> float:  # linear warmup, then cosine to 10%
        if step < w:
            return (step + 1) / w
        p = min(1.0, (step - w) / max(1, total - w))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))

    return f


def _log(msg: str, rank: int) -> None:
    if rank == 0:
        print(msg, file=sys.stderr, flush=True)


# Options that belong to one process, not to the run: a resumed run takes them from its own
# command line (or their defaults), never from the saved run.
PROCESS_OPTIONS = ("device", "threads", "progress", "minutes", "stop_after")


def resume_options(folder: str, typed: dict) -> TrainOptions:
    """The saved options of the run in ``folder``, with only the options in ``typed`` (those
    the user typed) replacing them; process options not typed take their defaults."""
    run_file = os.path.join(folder, "run.json")
    if not os.path.exists(run_file):
        raise UsageError(f"{folder}: not a training folder (no run.json)")
    with open(run_file) as f:
        saved = json.load(f)
    fields = set(TrainOptions.__dataclass_fields__)
    defaults = asdict(TrainOptions())
    merged = {k: v for k, v in saved.items() if k in fields and k not in PROCESS_OPTIONS}
    merged.update({k: defaults[k] for k in PROCESS_OPTIONS})
    if typed.get("task") not in (None, merged.get("task")):
        raise UsageError(f"{folder} is a run of {merged.get('task') or 'a data file'}, "
                         f"not of {typed['task']}")
    merged.update({k: v for k, v in typed.items() if k in fields})
    merged["out"] = folder
    return TrainOptions(**merged)


def _saved_options(opts: TrainOptions) -> dict:
    """The options as ``run.json`` keeps them: files and folders as absolute paths, so that
    ``--resume`` finds them from any working directory."""
    saved = asdict(opts)
    for key in ("data", "validation", "test", "library", "init_from", "tokenizer"):
        path = saved[key]
        if path and os.path.exists(path):  # library names and tokenizer kinds stay as typed
            saved[key] = os.path.abspath(path)
    return saved


def _check_sources(opts: TrainOptions) -> None:
    if (opts.task is None) == (opts.data is None):
        raise UsageError("give a built-in TASK or --data FILE (not both)")
    if opts.data is None:
        given = [f"--{k}" for k in ("validation", "test") if getattr(opts, k)]
        if given:
            raise UsageError(f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} "
                             "--data (a built-in task makes its own splits)")


def _splits(opts: TrainOptions) -> tuple[Splits, object]:
    """The run's splits and its built-in task (None for a user's data).

    Every data file, and the library, is checked before anything is built or written."""
    errors = _library_errors(opts.library) if opts.library else []
    if opts.data is None:
        if errors:
            raise DataError(errors)
        task = get_task(opts.task)
        return task_splits(task, opts.seed, opts.train_size, opts.validation_size,
                           opts.test_size), task
    splits = user_splits(opts.data, opts.validation, opts.test, opts.seed, more_errors=errors)
    return splits, None  # the model calls --library (build.build_model), or the default one


def _library_errors(spec: str | None) -> list[str]:
    """The compile errors of ``--library`` (they join the data's); a missing file or an unknown
    program name is a :class:`UsageError`."""
    from ..lang.errors import CompileError
    from ..library.interface import load_library

    try:
        load_library(spec)
    except CompileError as e:
        return e.lines()
    return []


def _learning_rate(opts: TrainOptions) -> float:
    if opts.lr is not None:
        return opts.lr
    return 1e-3 if backbone_name(opts) == "llama-tiny" else 1e-4  # a pretrained backbone: gentler


def _build(opts: TrainOptions, task, train_texts: list[str], rank: int):
    """A new ``(model, tokenizer)`` for the run. A tokenizer trained here (``bpe``) is trained
    on ``train_texts`` alone, never on validation or test text; a transfer (``init_from``)
    keeps its model's tokenizer (the same token ids)."""
    from .build import build_model, task_options

    # a built-in task calls its programs (or --library); a user's data --library (or the
    # standard library)
    model, tok = build_model(
        opts.library if task is None or opts.library else None, train_texts,
        **({} if task is None else task_options(task)), baseline=opts.baseline,
        tokenizer=opts.tokenizer or opts.init_from, hidden=opts.hidden, seed=opts.seed,
        **model_options(opts))
    if opts.init_from:
        from .checkpoint import init_from

        moved = init_from(model, opts.init_from)
        _log(f"neuralc: {len(moved['copied'])} tensors from {opts.init_from}; new: "
             f"{', '.join(moved['skipped']) or 'none'}", rank)
    return model, tok


def _load(folder: str, device):
    from transformers import AutoModel

    from .checkpoint import check_model_dir
    from .tokenization import load_tokenizer

    check_model_dir(folder)
    if not os.path.exists(os.path.join(folder, CHECKPOINT)):
        load_checkpoint(os.path.join(folder, CHECKPOINT), None, None, None, device)
    return AutoModel.from_pretrained(folder, local_files_only=True), load_tokenizer(folder)


def _optimizer(model, opts: TrainOptions):
    """AdamW with two rates: the backbone and selection head at ``lr``, the other heads at
    ``head_lr``. The heads learn from scratch what the answer needs (which number a token
    denotes): a higher rate helps them most; the selection head stays at the backbone's rate
    (faster, it collapsed onto one program). The fused implementation: one kernel over all
    parameters instead of a loop of small ops, 8× faster on a 16 M-row embedding
    (docs/BENCH.md, training step profile)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    slow = ("backbone.", "selection_head.")
    backbone = [p for n, p in named if n.startswith(slow)]
    heads = [p for n, p in named if not n.startswith(slow)]
    lr = _learning_rate(opts)
    head_lr = opts.head_lr if opts.head_lr is not None else 3 * lr
    optimizer = torch.optim.AdamW([{"params": backbone, "lr": lr},
                                   {"params": heads, "lr": head_lr}],
                                  lr=lr, weight_decay=opts.weight_decay, fused=True)
    return optimizer, backbone + heads


def _progress(opts: TrainOptions, rank: int) -> bool:
    """A redrawn bar only where someone watches it: rank 0, on a terminal, not turned off."""
    return rank == 0 and opts.progress and sys.stderr.isatty()


def train(opts: TrainOptions, resume: str | None = None) -> dict:
    """Train (or resume: ``opts`` from :func:`resume_options`) and return the summary dict
    (also printed by the CLI).

    Protocol: the tokenizer is built from the training texts; each epoch is scored on the
    validation split (``metrics.json``: validation metrics); the test split stays sealed until
    the run's last training step, is scored once, and reported as ``test_*`` (``test.json``).
    A process stopped by ``stop_after`` (a kill) has not ended its run: it scores no test."""
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
    from tqdm import tqdm

    if opts.threads:
        # the machine's many small ops run far faster on one thread when cores are shared
        torch.set_num_threads(opts.threads)
    _check_sources(opts)
    rank, world, own_pg = init_distributed(opts.device)
    device = device_for(opts.device, rank)
    if opts.batch_size % world:
        raise UsageError(f"--batch-size {opts.batch_size} is not divisible by {world} processes")
    splits, task = _splits(opts)  # every file checked before anything is built or written
    out_dir = opts.out = resume or opts.out
    torch.manual_seed(opts.seed)
    if resume:
        model, tok = _load(resume, device)
    else:
        model, tok = _build(opts, task, [e.text for e in splits.train], rank)
    model.to(device)
    outputs = model.config.outputs
    train_t = encode_examples(tok, splits.train, outputs)
    val_t = encode_examples(tok, splits.validation, outputs)

    optimizer, params = _optimizer(model, opts)
    dataset = TensorDataset(*train_t)
    # a training set smaller than one batch trains in one batch of all of it (per process)
    per_rank = min(opts.batch_size, len(dataset)) // world
    if per_rank == 0:
        raise UsageError(f"the training set ({len(dataset)}) is smaller than the {world} "
                         "processes that share it")
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                 seed=opts.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, drop_last=True)
    steps_per_epoch = len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule(opts.epochs * steps_per_epoch, opts.warmup))

    metrics: list[dict] = []
    start_epoch, step = 0, 0
    ckpt = os.path.join(out_dir, CHECKPOINT)
    if resume:
        state = load_checkpoint(ckpt, model, optimizer, scheduler, device)
        start_epoch, step, metrics = state["epoch"], state["step"], state["metrics"]
        _log(f"neuralc: resumed {out_dir} at epoch {start_epoch} (step {step})", rank)
    seen = _test_seen(out_dir, opts.epochs) if resume else False
    if seen:
        _log("neuralc: warning: the test split of this run was scored before its schedule "
             "changed: its test score is not a one-schedule result", rank)
    elif rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "run.json"), "w") as f:
            json.dump(_saved_options(opts), f, indent=1)
        model.save_pretrained(out_dir)
        tok.save_pretrained(out_dir)

    net = DDP(model, broadcast_buffers=False) if world > 1 else model  # constant buffers
    t0 = time.time()
    budget = opts.minutes * 60 if opts.minutes else None
    stopped = "early stopping" if _patience_spent(metrics, opts.patience) else None
    for epoch in range(start_epoch, opts.epochs):
        if stopped:
            break
        sampler.set_epoch(epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{opts.epochs}",
                   disable=not _progress(opts, rank), file=sys.stderr, leave=False,
                   dynamic_ncols=True)
        deadline = t0 + budget if budget else None
        train_loss, steps, out_of_time = _epoch(net, bar, optimizer, scheduler, params, device,
                                                deadline)
        step += steps
        stopped = "time budget" if out_of_time else None
        ev = evaluate(model, val_t, splits.validation, device) if rank == 0 else {}
        row = {"epoch": epoch + 1, "step": step, "train_loss": train_loss,
               "time_s": round(time.time() - t0, 1), "partial_epoch": stopped is not None,
               **{f"validation_{k}": v for k, v in ev.items()}}
        metrics.append(row)
        if rank == 0:
            _log(f"epoch {epoch + 1}: loss {row['train_loss']:.4f}, validation accuracy "
                 f"{ev['accuracy']:.4f} ({row['time_s']} s)", rank)
            if opts.keep == "best" and _best_epoch(metrics) == epoch + 1:  # kept apart
                _save_weights(model, os.path.join(out_dir, BEST))
            if stopped is None:  # a checkpoint only at an epoch boundary (exact resume)
                save_checkpoint(ckpt, model, optimizer, scheduler,
                                {"epoch": epoch + 1, "step": step, "metrics": metrics})
            model.save_pretrained(out_dir)
            _write_metrics(out_dir, metrics)
        if _agree(_patience_spent(metrics, opts.patience), rank, world, device):
            stopped = stopped or "early stopping"
        if world > 1:
            torch.distributed.barrier()
        if opts.stop_after is not None and epoch + 1 - start_epoch >= opts.stop_after:
            stopped = stopped or "stop_after"
    last = metrics[-1] if metrics else {}
    kept = last.get("epoch", start_epoch)
    ended = stopped != "stop_after"  # a kill is not the end of the run
    if ended and opts.keep == "best" and rank == 0 and metrics and _best_epoch(metrics) != kept:
        kept = _best_epoch(metrics)
        _load_weights(model, os.path.join(out_dir, BEST))
        model.save_pretrained(out_dir)  # the model folder holds the kept weights
    # the end of the run (last epoch, time budget, early stop): the one look at the test split
    test = {}
    if splits.test is not None and ended and rank == 0:
        test = evaluate(model, encode_examples(tok, splits.test.unseal(), outputs),
                        splits.test, device)
        with open(os.path.join(out_dir, TEST), "w") as f:
            json.dump({"epoch": kept, "epochs": opts.epochs, "keep": opts.keep, "step": step,
                       "test_seen_before": seen,
                       "examples": len(splits.test), **test}, f, indent=1)
    summary = {
        "task": opts.task, "data": opts.data, "backbone": backbone_name(opts),
        "baseline": opts.baseline, "epochs": last.get("epoch", start_epoch), "steps": step,
        "kept_epoch": kept, "best_validation_epoch": _best_epoch(metrics) if metrics else None,
        **{f"validation_{k}": last.get(f"validation_{k}") for k in (
            "accuracy", "slot_accuracy", "groups")},
        **{f"test_{k}": test.get(k) for k in ("accuracy", "slot_accuracy", "groups")},
        "selection_accuracy": test.get("selection_accuracy"),
        "train_loss": last.get("train_loss"), "train_examples": len(splits.train),
        "validation_examples": len(splits.validation),
        "test_examples": len(splits.test) if splits.test is not None else 0,
        "world_size": world, "device": str(device),
        "seconds": round(time.time() - t0, 1), "stopped": stopped, "out": out_dir,
        "test_seen_before": seen,  # scored, then the schedule changed: not a headline number
    }
    if world > 1:
        del net  # the DDP reducer must not hold the last reference to the group (below)
        summary.update(compare_replicas(model, device, own_pg))
    return summary if rank == 0 else {}


def _epoch(net, batches, optimizer, scheduler, params, device, deadline: float | None):
    """One pass over ``batches``: ``(mean training loss, steps, stopped by the deadline?)``."""
    net.train()
    total, steps = 0.0, 0
    for ids, mask, labels in batches:
        out = net(input_ids=ids.to(device), attention_mask=mask.to(device),
                  labels=labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        steps += 1
        total += out.loss.item()
        if hasattr(batches, "set_postfix"):
            batches.set_postfix(loss=f"{total / steps:.3f}")
        if deadline and time.time() > deadline:
            return total / steps, steps, True
    return total / max(1, steps), steps, False


BEST = "best.safetensors"  # the weights of the best validation epoch so far
TEST = "test.json"  # the one test score of a run


def _test_seen(out_dir: str, epochs: int) -> bool:
    """Whether the run's test split was scored under another schedule (another number of
    epochs) than ``epochs``, now or in an earlier continuation."""
    try:
        with open(os.path.join(out_dir, TEST)) as f:
            before = json.load(f)
    except (OSError, ValueError):
        return False
    return bool(before.get("test_seen_before") or before.get("epochs", epochs) != epochs)


def _best_epoch(metrics: list[dict]) -> int:
    """The epoch of the highest validation accuracy; among equals the lowest validation loss,
    then the earliest."""
    best = max(metrics, key=lambda m: (m.get("validation_accuracy", 0.0),
                                       -m.get("validation_loss", 0.0), -m["epoch"]))
    return best["epoch"]


def _patience_spent(metrics: list[dict], patience: int | None) -> bool:
    """``patience`` epochs have passed since the best validation epoch."""
    return bool(patience and metrics and metrics[-1]["epoch"] - _best_epoch(metrics) >= patience)


def _agree(flag: bool, rank: int, world: int, device) -> bool:
    """Rank 0's ``flag`` on every rank (only rank 0 evaluates)."""
    if world <= 1:
        return flag
    t = torch.tensor([int(flag and rank == 0)], device=device)
    torch.distributed.broadcast(t, 0)
    return bool(t.item())


def _save_weights(model, path: str) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, path)


def _load_weights(model, path: str) -> None:
    from safetensors.torch import load_file

    if not os.path.exists(path):
        raise UsageError(f"{path}: no weights of the best epoch (the run kept the last epoch's "
                         "until now; resume it with --keep last)")
    model.load_state_dict(load_file(path))


def _write_metrics(out_dir: str, metrics: list[dict]) -> None:
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    try:
        from .plots import plot_curves

        plot_curves(metrics, os.path.join(out_dir, "curves.png"))
    except Exception as e:  # noqa: BLE001 -- a plot must never stop training
        print(f"neuralc: warning: could not plot curves: {e}", file=sys.stderr)
