"""``neuralc train TASK``: train a language model with the compiled library (or the baseline).

Runs the same under ``torchrun --nproc_per_node=N -m neuralc train ...`` (DDP). Prints a
progress bar and per-epoch lines on stderr and one JSON summary line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["add_common_options", "add_parser", "main", "options_from_args"]


def _positive(text: str) -> int:
    from .options import positive_int

    return positive_int(text)


def _pos_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: '{text}'") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive (got {text})")
    return v


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", default="llama-tiny",
                   help="llama-tiny (default), minilm, or a local Hugging Face model directory")
    p.add_argument("--tokenizer", default=None,
                   help="llama-tiny only: llama3 (default when installed), bpe, or a directory")
    p.add_argument("--hidden", type=_positive, default=None,
                   help="llama-tiny hidden size (default 128)")
    p.add_argument("--baseline", action="store_true",
                   help="the same backbone without the computer (answers as 128-way classes)")
    p.add_argument("--lr", type=_pos_float, default=None,
                   help="learning rate (default 1e-3; 1e-4 for pretrained backbones)")
    p.add_argument("--head-lr", type=_pos_float, default=None,
                   help="learning rate of the parsing and answer heads (default 3 × lr)")
    p.add_argument("--batch-size", type=_positive, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-size", type=_positive, default=None, help="training examples")
    p.add_argument("--test-size", type=_positive, default=None, help="held-out examples")
    p.add_argument("--device", default=os.environ.get("NEURALC_DEVICE", "cpu"),
                   help="cpu (default), cuda, cuda:N")
    p.add_argument("--parse-head", choices=("pointer", "pooled"), default="pointer")
    p.add_argument("--pointer", choices=("ordinal", "attention"), default="ordinal",
                   help="how the parser finds input i: the i-th number-like token (ordinal, "
                        "default) or learned attention queries")
    p.add_argument("--pointer-positions", type=int, default=0, metavar="P",
                   help="learned key positions of the attention pointer (default 0: none)")
    p.add_argument("--selection-words", action="store_true",
                   help="add bag-of-words votes of the token embeddings to the selection logits")
    p.add_argument("--selection-pool", choices=("pooled", "attention"), default="pooled",
                   help="what the selection head reads: the backbone's pooled state (default: mean "
                        "for decoders, [CLS] for encoders) or a learned attention pool over the "
                        "token states (starts as their mean)")
    p.add_argument("--selection-mode", choices=("programs", "superposition"), default="programs",
                   help="programs (default): each library program runs alone and the answers are "
                        "mixed by the selection (exact); superposition: one machine runs every "
                        "program at once (the paper's form, cheaper)")
    p.add_argument("--posterior-weight", type=float, default=1.0, metavar="W",
                   help="weight of the selection's answer-posterior loss (programs mode; "
                        "default 1, 0 = off: the marginal likelihood alone)")
    p.add_argument("--gate-bias", type=float, default=0.0, metavar="B",
                   help="initial bias of the ordinal pointer's operand gate (default 0)")
    p.add_argument("--pointer-null", action="store_true",
                   help="a learned null slot the ordinal pointer reads for inputs the request "
                        "lacks (variable-length lists)")
    p.add_argument("--alu", choices=("sparse", "dense", "circuit"), default="sparse")
    p.add_argument("--init-from", metavar="DIR", default=None,
                   help="start from the trained model in DIR (its tokenizer, and every tensor that "
                        "fits: backbone, parser; not its library or a differently shaped head)")
    p.add_argument("--minutes", type=_pos_float, default=None,
                   help="wall-clock budget for training (stops mid-epoch, then evaluates)")
    p.add_argument("--threads", type=_positive, default=1,
                   help="torch CPU threads per process (default 1: the machine's small ops are "
                        "fastest on one thread, and torchrun runs one process per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_parser(subparsers) -> None:
    from ..lm.tasks import TASKS

    p = subparsers.add_parser(
        "train", help="train a language model that calls the compiled library",
        description="Train a language model (LLaMA-tiny, MiniLM BERT or a local HF model) with "
                    "the compiled library on a natural-language task, from answers only.")
    p.add_argument("task", choices=sorted(TASKS), metavar="TASK",
                   help="one of: " + ", ".join(sorted(TASKS)))
    add_common_options(p)
    p.add_argument("--epochs", type=_positive, default=10)
    p.add_argument("--out", default=None, help="output folder (default runs/<task>-<backbone>)")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue the run in DIR from its last checkpoint (exact)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: tiny data, 1 epoch, BPE tokenizer")
    p.add_argument("--stop-after", type=_positive, default=None, metavar="E",
                   help="stop after E epochs in this process (as if killed); --resume continues")


def options_from_args(args, **over):
    from ..lm.training import TrainOptions

    pretrained = args.backbone != "llama-tiny"
    lr = args.lr if args.lr is not None else (1e-4 if pretrained else 1e-3)
    name = os.path.basename(os.path.normpath(args.backbone))
    opts = TrainOptions(
        task=args.task, backbone=args.backbone, baseline=args.baseline,
        epochs=getattr(args, "epochs", 10), lr=lr, head_lr=args.head_lr, batch_size=args.batch_size, seed=args.seed,
        train_size=args.train_size, test_size=args.test_size, device=args.device,
        out=getattr(args, "out", None) or os.path.join(
            "runs", f"{args.task}-{name}{'-baseline' if args.baseline else ''}"),
        tokenizer=args.tokenizer, hidden=args.hidden, parse_head=args.parse_head, alu=args.alu,
        pointer=args.pointer, pointer_positions=args.pointer_positions,
        selection_words=args.selection_words,
        selection_pool=getattr(args, "selection_pool", "pooled"),
        selection_mode=getattr(args, "selection_mode", "programs"),
        posterior_weight=getattr(args, "posterior_weight", 1.0),
        init_from=getattr(args, "init_from", None),
        gate_bias=getattr(args, "gate_bias", 0.0),
        pointer_null=getattr(args, "pointer_null", False),
        minutes=args.minutes, stop_after=getattr(args, "stop_after", None),
        progress=not args.no_progress, threads=args.threads)
    for k, v in over.items():
        setattr(opts, k, v)
    return opts


def main(args) -> int:
    from ..lm.training import train

    opts = options_from_args(args)
    if args.quick:
        opts.train_size = opts.train_size or 256
        opts.test_size = opts.test_size or 64
        opts.epochs = 1 if args.epochs == 10 else args.epochs
        opts.tokenizer = opts.tokenizer or "bpe"
    summary = train(opts, resume=args.resume)
    if summary:
        print(json.dumps(summary), flush=True)
    return 0
