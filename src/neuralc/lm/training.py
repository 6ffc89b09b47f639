"""Training and evaluation: answers-only cross-entropy, exact resume, DistributedDataParallel.

Reproducibility: the model is built from ``seed``; the order of the training data in epoch ``e``
is a permutation seeded by ``(seed, e)`` (``DistributedSampler.set_epoch``), so a run resumed from
the checkpoint of epoch ``e`` sees exactly the batches the uninterrupted run saw, and ends with
bit-identical weights (model, optimizer, scheduler and RNG states are all restored).

Under ``torchrun --nproc_per_node=N`` every process trains on its shard of each global batch
(``batch_size // N`` examples) with DistributedDataParallel (gloo on CPU, nccl on CUDA); only rank
0 evaluates and writes files.

Out folder: ``config.json`` + ``model.safetensors`` + tokenizer (a Hugging Face model folder, the
latest weights, for ``neuralc predict`` and ``from_pretrained``), ``checkpoint.safetensors``
(training state), ``run.json`` (the run's options), ``metrics.json`` and ``curves.png``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field

import torch

from ..lang.errors import UsageError
from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .tasks import IGNORE, Example, get_task

__all__ = ["TrainOptions", "encode_examples", "evaluate", "train"]


@dataclass
class TrainOptions:
    task: str = "arithmetic"
    backbone: str = "llama-tiny"
    baseline: bool = False
    epochs: int = 10
    lr: float = 1e-3
    head_lr: float | None = None  # lr of the parser and answer heads; None: 3 × lr
    batch_size: int = 16
    seed: int = 0
    train_size: int | None = None
    test_size: int | None = None
    device: str = "cpu"
    out: str = "runs/train"
    tokenizer: str | None = None
    hidden: int | None = None
    parse_head: str = "pointer"
    pointer: str = "ordinal"  # ordinal | attention (see NeuralCompilerConfig)
    pointer_positions: int = 0  # learned key positions of the attention pointer
    selection_words: bool = False  # bag-of-words votes added to the selection logits (measured worse)
    selection_pool: str = "pooled"  # pooled | attention: what the selection head reads (not measured yet)
    # each program runs alone, answers mixed by the selection, and the selection learns from the
    # answer posterior (NeuralCompilerConfig); "superposition" with weight 0 is the paper's form
    selection_mode: str = "programs"
    posterior_weight: float = 1.0
    gate_bias: float = 0.0  # initial bias of the ordinal pointer's gate
    pointer_null: bool = False  # a null slot for inputs the request lacks (short lists)
    alu: str = "sparse"
    init_from: str | None = None  # a trained model folder: start from its fitting tensors
    weight_decay: float = 0.0
    warmup: float = 0.05  # fraction of all steps
    minutes: float | None = None  # wall-clock budget for the training loop
    stop_after: int | None = None  # stop after this many epochs in this process (a "kill")
    progress: bool = True
    threads: int | None = 1  # torch CPU threads per process (None: torch's default)
    extra: dict = field(default_factory=dict)


def encode_examples(tok, examples: list[Example], outputs: int, max_length: int | None = None):
    """(input_ids, attention_mask, labels) tensors; right padding."""
    enc = tok([e.text for e in examples], padding="max_length" if max_length else True,
              max_length=max_length, truncation=bool(max_length), return_tensors="pt")
    labels = torch.full((len(examples), outputs), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        labels[i, : len(e.answer)] = torch.tensor(e.answer)
    return enc["input_ids"], enc["attention_mask"], labels


def _dist():
    """(rank, world, initialised here?)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get(
            "NEURALC_DEVICE", "cpu").startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        return dist.get_rank(), dist.get_world_size(), True
    return dist.get_rank(), dist.get_world_size(), False


def _device(name: str, rank: int) -> torch.device:
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: CUDA is not available on this machine")
        if name == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            name = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
        torch.cuda.set_device(torch.device(name))
    elif name != "cpu" and name != "mps":
        raise UsageError(f"unknown device {name!r} (cpu, cuda, cuda:N)")
    return torch.device(name)


@torch.no_grad()
def evaluate(model, tensors, examples: list[Example], device, batch_size: int = 128) -> dict:
    """Exact-match accuracy (every counted slot right), per-slot accuracy, per-group and
    held-out-template accuracy, and, with a computer, how often the argmax selection is the
    example's program (reported, never trained)."""
    model.eval()
    ids, mask, labels = tensors
    preds, sels, halted = [], [], []
    for s in range(0, len(ids), batch_size):
        out = model(input_ids=ids[s:s + batch_size].to(device),
                    attention_mask=mask[s:s + batch_size].to(device))
        preds.append(out.answer_log_probs.argmax(-1).cpu())
        if out.selection is not None:
            sels.append(out.selection.cpu())
            halted.append(out.halted.cpu())
    pred = torch.cat(preds)
    counted = labels != IGNORE
    right = (pred == labels) | ~counted
    exact = right.all(-1)
    res = {
        "accuracy": exact.float().mean().item(),
        "slot_accuracy": ((pred == labels) & counted).sum().item() / max(1, counted.sum().item()),
    }
    groups: dict[str, list[bool]] = {}
    for e, ok in zip(examples, exact.tolist()):
        groups.setdefault(e.group, []).append(ok)
        if e.held_out_template:
            groups.setdefault("held_out_template", []).append(ok)
    res["groups"] = {g: sum(v) / len(v) for g, v in sorted(groups.items())}
    if sels:
        sel = torch.cat(sels)
        programs = list(model.config.programs)
        chosen = sel.argmax(-1).tolist()
        res["selection_accuracy"] = sum(programs[c] == e.program
                                        for c, e in zip(chosen, examples)) / len(examples)
        res["selection_entropy"] = (-(sel * sel.clamp_min(1e-12).log()).sum(-1)).mean().item()
        res["halted"] = torch.cat(halted).mean().item()
    model.train()
    return res


def _weights_sha(model) -> str:
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
                 if v.dtype != torch.bool else v.cpu().numpy().tobytes())
    return h.hexdigest()


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


def train(opts: TrainOptions, resume: str | None = None) -> dict:
    """Train (or resume) and return the summary dict (also printed by the CLI)."""
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
    from tqdm import tqdm

    from .build import build_model

    if opts.threads:
        # the machine's many small ops run far faster on one thread when cores are shared
        torch.set_num_threads(opts.threads)
    rank, world, own_pg = _dist()
    device = _device(opts.device, rank)
    out_dir = opts.out
    if resume:
        run_file = os.path.join(resume, "run.json")
        if not os.path.exists(run_file):
            raise UsageError(f"{resume}: not a training folder (no run.json)")
        with open(run_file) as f:
            saved = json.load(f)
        keep = {k: getattr(opts, k) for k in ("epochs", "device", "stop_after", "progress",
                                               "minutes", "threads")}
        opts = TrainOptions(**{**saved, **keep})
        out_dir = opts.out = resume
    task = get_task(opts.task)
    if opts.batch_size % world:
        raise UsageError(f"--batch-size {opts.batch_size} is not divisible by {world} processes")
    torch.manual_seed(opts.seed)

    # data (deterministic in the seed)
    train_ex = task.make_split("train", opts.seed, opts.train_size)
    test_ex = task.make_split("test", opts.seed, opts.test_size)

    if resume:
        from transformers import AutoModel

        from .checkpoint import check_model_dir
        from .tokenization import load_tokenizer

        check_model_dir(resume)
        if not os.path.exists(os.path.join(resume, CHECKPOINT)):
            load_checkpoint(os.path.join(resume, CHECKPOINT), None, None, None, device)
        model = AutoModel.from_pretrained(resume, local_files_only=True)
        tok = load_tokenizer(resume)
    else:
        tokenizer = opts.tokenizer or opts.init_from  # transfer needs the same token ids
        model, tok = build_model(task, opts.backbone, baseline=opts.baseline,
                                 tokenizer=tokenizer, hidden=opts.hidden, seed=opts.seed,
                                 parse_head=opts.parse_head, alu=opts.alu,
                                 pointer=opts.pointer, pointer_positions=opts.pointer_positions,
                                 selection_words=opts.selection_words,
                                 selection_pool=opts.selection_pool,
                                 selection_mode=opts.selection_mode,
                                 posterior_weight=opts.posterior_weight,
                                 gate_bias=opts.gate_bias, pointer_null=opts.pointer_null)
        if opts.init_from:
            from .checkpoint import init_from

            moved = init_from(model, opts.init_from)
            _log(f"neuralc: {len(moved['copied'])} tensors from {opts.init_from}; new: "
                 f"{', '.join(moved['skipped']) or 'none'}", rank)
    model.to(device)
    max_len = max(len(x) for x in tok([e.text for e in train_ex + test_ex]).input_ids)
    train_t = encode_examples(tok, train_ex, task.outputs, max_len)
    test_t = encode_examples(tok, test_ex, task.outputs, max_len)

    # The heads learn from scratch what the answer needs (which number a token denotes, which
    # program a request names): a higher learning rate than the backbone's helps them most.
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    # The selection head stays at the backbone's rate: faster, it collapsed onto one program.
    slow = ("backbone.", "selection_head.", "selection_words.", "selection_pool.")
    backbone = [p for n, p in named if n.startswith(slow)]
    heads = [p for n, p in named if not n.startswith(slow)]
    params = backbone + heads
    head_lr = opts.head_lr if opts.head_lr is not None else 3 * opts.lr
    optimizer = torch.optim.AdamW([{"params": backbone, "lr": opts.lr},
                                   {"params": heads, "lr": head_lr}],
                                  lr=opts.lr, weight_decay=opts.weight_decay)
    per_rank = opts.batch_size // world
    dataset = TensorDataset(*train_t)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                 seed=opts.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, drop_last=True)
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        raise UsageError(f"the training set ({len(dataset)}) is smaller than one batch")
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule(opts.epochs * steps_per_epoch, opts.warmup))

    metrics: list[dict] = []
    start_epoch, step = 0, 0
    ckpt = os.path.join(out_dir, CHECKPOINT)
    if resume:
        state = load_checkpoint(ckpt, model, optimizer, scheduler, device)
        start_epoch, step, metrics = state["epoch"], state["step"], state["metrics"]
        _log(f"neuralc: resumed {out_dir} at epoch {start_epoch} (step {step})", rank)
    elif rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "run.json"), "w") as f:
            json.dump(asdict(opts), f, indent=1)
        model.save_pretrained(out_dir)
        tok.save_pretrained(out_dir)

    net = DDP(model, broadcast_buffers=False) if world > 1 else model  # constant buffers
    t0 = time.time()
    budget = opts.minutes * 60 if opts.minutes else None
    stopped = None
    for epoch in range(start_epoch, opts.epochs):
        if stopped:
            break
        sampler.set_epoch(epoch)
        model.train()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{opts.epochs}", disable=(
            rank != 0 or not opts.progress), file=sys.stderr, leave=False, dynamic_ncols=True)
        tot_loss, tot_n = 0.0, 0
        for ids, mask, labels in bar:
            out = net(input_ids=ids.to(device), attention_mask=mask.to(device),
                      labels=labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            tot_loss += out.loss.item()
            tot_n += 1
            bar.set_postfix(loss=f"{tot_loss / tot_n:.3f}")
            if budget and time.time() - t0 > budget:
                stopped = "time budget"
                break
        ev = evaluate(model, test_t, test_ex, device) if rank == 0 else {}
        row = {"epoch": epoch + 1, "step": step, "train_loss": tot_loss / max(1, tot_n),
               "time_s": round(time.time() - t0, 1), "partial_epoch": stopped is not None,
               **{f"test_{k}": v for k, v in ev.items()}}
        metrics.append(row)
        if rank == 0:
            _log(f"epoch {epoch + 1}: loss {row['train_loss']:.4f}, test accuracy "
                 f"{ev['accuracy']:.4f} ({row['time_s']} s)", rank)
            if stopped is None:  # a checkpoint only at an epoch boundary (exact resume)
                save_checkpoint(ckpt, model, optimizer, scheduler,
                                {"epoch": epoch + 1, "step": step, "metrics": metrics})
            model.save_pretrained(out_dir)
            _write_metrics(out_dir, metrics)
        if world > 1:
            torch.distributed.barrier()
        if opts.stop_after is not None and epoch + 1 - start_epoch >= opts.stop_after:
            stopped = stopped or "stop_after"
    last = metrics[-1] if metrics else {}
    summary = {
        "task": opts.task, "backbone": opts.backbone, "baseline": opts.baseline,
        "epochs": last.get("epoch", start_epoch), "steps": step,
        "test_accuracy": last.get("test_accuracy"),
        "test_slot_accuracy": last.get("test_slot_accuracy"),
        "test_groups": last.get("test_groups"),
        "selection_accuracy": last.get("test_selection_accuracy"),
        "train_loss": last.get("train_loss"), "train_examples": len(train_ex),
        "test_examples": len(test_ex), "world_size": world, "device": str(device),
        "seconds": round(time.time() - t0, 1), "stopped": stopped, "out": out_dir,
    }
    if world > 1:
        del net  # the DDP reducer must not hold the last reference to the group (below)
        summary.update(_compare_replicas(model, device, own_pg))
    return summary if rank == 0 else {}


def _compare_replicas(model, device, own_pg: bool) -> dict:
    """Every rank's weight digest, gathered; then the process group is torn down.

    Teardown order matters (measured: a rank hung at exit under CPU load, gdb showed it): if the
    last reference to the gloo process group is dropped by the DDP reducer's destructor on the
    main thread (GIL held, joining gloo's worker threads) while a worker thread still destroys a
    finished collective whose tensor's Python object it owns (it needs the GIL to free it), the
    two wait on each other forever. So: the caller drops the DDP wrapper first; we gather into
    tensors that Python keeps alive until after ``destroy_process_group``, and synchronise first.
    """
    import torch.distributed as dist

    world = dist.get_world_size()
    mine = torch.tensor(list(bytes.fromhex(_weights_sha(model))), dtype=torch.uint8,
                        device=device)
    gathered = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(gathered, mine)
    shas = [bytes(g.cpu().tolist()).hex() for g in gathered]
    dist.barrier()
    if own_pg:
        dist.destroy_process_group()
    del mine, gathered  # only now: no collective can still hold them
    return {"replica_sha256": shas, "replicas_identical": len(set(shas)) == 1}


def _write_metrics(out_dir: str, metrics: list[dict]) -> None:
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    try:
        from .plots import plot_curves

        plot_curves(metrics, os.path.join(out_dir, "curves.png"))
    except Exception as e:  # noqa: BLE001 -- a plot must never stop training
        print(f"neuralc: warning: could not plot curves: {e}", file=sys.stderr)
