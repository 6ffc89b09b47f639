"""``neuralc train``: train a language model that calls the compiled library, on a built-in
TASK or on a user's data (``--data``), or continue a run (``--resume DIR``).

Every training option's default lives in :class:`neuralc.lm.training.TrainOptions`, every
model option's in :class:`neuralc.lm.configuration.NeuralCompilerConfig`: the parser's
defaults are ``None`` (nothing typed), so a resumed run keeps its saved options and only those
the user types override them. Runs the same under ``torchrun --nproc_per_node=N -m neuralc
train ...`` (DDP). Per-epoch lines (and, on a terminal, a progress bar) go to stderr; the last
line of stdout is one JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os

from .options import add_device_option, default_device

__all__ = ["add_common_options", "add_parser", "main", "options_from_args", "typed_options"]


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
    """The model and training options (defaults: ``TrainOptions``; ``None`` = not typed)."""
    p.add_argument("--backbone", default=None,
                   help="llama-tiny (default), minilm, or a local Hugging Face model directory")
    p.add_argument("--tokenizer", default=None,
                   help="llama-tiny only: llama3 (default when installed), bpe (trained on the "
                        "training texts), or a directory")
    p.add_argument("--hidden", type=_positive, default=None,
                   help="llama-tiny hidden size (default 128)")
    p.add_argument("--baseline", action="store_true", default=None,
                   help="the same backbone without the computer (answers as 128-way classes)")
    p.add_argument("--lr", type=_pos_float, default=None,
                   help="learning rate (default 1e-3; 1e-4 for pretrained backbones)")
    p.add_argument("--head-lr", type=_pos_float, default=None,
                   help="learning rate of the parsing and answer heads (default 3 × lr)")
    p.add_argument("--batch-size", type=_positive, default=None, help="default 16")
    p.add_argument("--seed", type=int, default=None, help="default 0")
    p.add_argument("--train-size", type=_positive, default=None,
                   help="training examples of a built-in task")
    p.add_argument("--validation-size", type=_positive, default=None,
                   help="validation examples of a built-in task (default train size / 8)")
    p.add_argument("--test-size", type=_positive, default=None,
                   help="test examples of a built-in task")
    add_device_option(p, typed_only=True)
    p.add_argument("--parse-head", choices=("pointer", "pooled"), default=None,
                   help="how the inputs are read: a pointer over the tokens (default) or the "
                        "paper's head on the pooled state, x_k = softmax(W_k z) (no lists)")
    p.add_argument("--pointer", choices=("ordinal", "attention"), default=None,
                   help="how the parser finds input i: learned attention queries over the "
                        "backbone's contextual states (attention, default) or the i-th "
                        "number-like token (ordinal, a hand-designed prior)")
    p.add_argument("--pointer-context", type=int, default=None, metavar="L",
                   help="bidirectional layers over the backbone's states that the attention "
                        "pointer's keys and the list gates read (default 1; 0: the backbone's "
                        "own states)")
    p.add_argument("--selection-mode", choices=("programs", "superposition"), default=None,
                   help="programs (default): each library program runs alone and the answers are "
                        "mixed by the selection (exact); superposition: one machine runs every "
                        "program at once (the paper's form, cheaper)")
    p.add_argument("--posterior-weight", type=float, default=None, metavar="W",
                   help="weight of the selection's answer-posterior loss (programs mode; "
                        "default 1, 0 = off: the marginal likelihood alone)")
    p.add_argument("--pointer-posterior-weight", type=float, default=None, metavar="W",
                   help="weight of the pointer's answer-posterior loss: which of the request's "
                        "tokens, read into an input, explains the answer (default 1; 0: off)")
    p.add_argument("--pointer-posterior", choices=("exact", "machine"), default=None,
                   help="how that posterior runs the library: exact (default: every joint parse "
                        "of the request's numbers run on the reference interpreter, cached) or "
                        "machine (one soft run of the library computer per input and token, "
                        "the other inputs as parsed)")
    p.add_argument("--gate-bias", type=float, default=None, metavar="B",
                   help="initial bias of the ordinal pointer's operand gate (default 0)")
    p.add_argument("--learn-numbers", action="store_true", default=None,
                   help="learn the value of every token from the answers; by default a token "
                        "whose text is a number denotes that value (a hand-designed prior, "
                        "docs/LM.md)")
    p.add_argument("--alu", choices=("sparse", "dense", "circuit"), default=None)
    p.add_argument("--unknown-dropout", type=float, default=None, metavar="P",
                   help="with a trimmed vocabulary, the probability that training reads a word "
                        "(not a number) as the unknown row, where words training never showed "
                        "land (default 0.1)")
    p.add_argument("--full-vocabulary", action="store_true", default=None,
                   help="keep an embedding row for every token of the tokenizer; by default a "
                        "from-scratch backbone keeps only the tokens of the training texts, the "
                        "special and the number tokens, and one unknown row for every other "
                        "token (pretrained backbones always keep every row)")
    p.add_argument("--init-from", metavar="DIR", default=None,
                   help="start from the trained model in DIR (its tokenizer, and every tensor that "
                        "fits: backbone, parser; not its library or a differently shaped head)")
    p.add_argument("--minutes", type=_pos_float, default=None,
                   help="wall-clock budget for training (stops mid-epoch, then evaluates)")
    p.add_argument("--threads", type=_positive, default=None,
                   help="torch CPU threads per process (default 1: the machine's small ops are "
                        "fastest on one thread, and torchrun runs one process per core)")
    p.add_argument("--no-progress", action="store_true", default=None,
                   help="no progress bar (there is none anyway when stderr is not a terminal)")


def add_parser(subparsers) -> None:
    from ..lm.tasks import TASKS

    p = subparsers.add_parser(
        "train", help="train a language model that calls the compiled library",
        description="Train a language model (LLaMA-tiny, MiniLM BERT or a local HF model) with "
                    "the compiled library, from answers only: on a built-in TASK, on your own "
                    "data (--data), or continue a run (--resume DIR).")
    p.add_argument("task", nargs="?", choices=sorted(TASKS), default=None, metavar="TASK",
                   help="one of: " + ", ".join(sorted(TASKS)) + " (not with --data)")
    p.add_argument("--data", metavar="TRAIN.jsonl", default=None,
                   help='training data: one JSON object per line, {"text": ..., "answer": 7} '
                        'or {"text": ..., "answer": [1, 2, 3]}')
    p.add_argument("--validation", metavar="VAL.jsonl", default=None,
                   help="validation data (default: a seeded tenth of --data held out)")
    p.add_argument("--test", metavar="TEST.jsonl", default=None,
                   help="test data, scored once at the end of the run")
    p.add_argument("--library", metavar="FILE.py|NAME,...", default=None,
                   help="the programs the model may call (default: a TASK's own programs; the "
                        "standard library for --data)")
    add_common_options(p)
    p.add_argument("--epochs", type=_positive, default=None, help="default 10")
    p.add_argument("--keep", choices=("last", "best"), default=None,
                   help="the weights the run keeps and tests: the last epoch's (default) or the "
                        "best validation epoch's")
    p.add_argument("--patience", type=_positive, default=None, metavar="P",
                   help="stop early after P epochs without a better validation accuracy")
    p.add_argument("--out", default=None,
                   help="output folder (default runs/<task or data file>-<backbone>)")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue the run in DIR from its last checkpoint (exact), with its "
                        "saved options; options typed here override them")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: tiny data, 1 epoch, BPE tokenizer")
    p.add_argument("--stop-after", type=_positive, default=None, metavar="E",
                   help="stop after E epochs in this process (as if killed); --resume continues")


# command-line name → TrainOptions field, where they differ
_RENAMED = {"no_progress": "progress", "learn_numbers": "copy_numbers",
            "full_vocabulary": "trim_vocabulary"}
_NEGATED = ("no_progress", "learn_numbers", "full_vocabulary")
_NOT_OPTIONS = ("command", "resume", "quick", "_main")


def typed_options(args) -> dict:
    """The ``TrainOptions`` fields the user typed (argparse leaves the rest ``None``)."""
    typed = {}
    for k, v in vars(args).items():
        if v is None or k in _NOT_OPTIONS:
            continue
        typed[_RENAMED.get(k, k)] = (not v) if k in _NEGATED else v
    return typed


def _default_out(opts) -> str:
    from ..lm.training import backbone_name

    name = os.path.basename(os.path.normpath(backbone_name(opts)))
    what = opts.task or os.path.splitext(os.path.basename(opts.data))[0]
    return os.path.join("runs", f"{what}-{name}{'-baseline' if opts.baseline else ''}")


def options_from_args(args, **over):
    """``TrainOptions`` of a new run: its defaults, then what was typed, then ``over``."""
    from ..lm.training import TrainOptions

    typed = {**typed_options(args), **over}
    if typed.get("data") is not None:
        typed.setdefault("task", None)  # a user's data, no built-in task
    typed.setdefault("device", default_device())
    opts = TrainOptions(**{k: v for k, v in typed.items() if k != "out"})
    opts.out = typed.get("out") or _default_out(opts)
    return opts


def main(args) -> int:
    from ..lang.errors import UsageError
    from ..lm.training import resume_options, train

    if args.quick and not args.resume:  # a resumed run keeps its own sizes
        args.train_size = args.train_size or 256
        args.test_size = args.test_size or 64
        args.epochs = args.epochs or 1
        args.tokenizer = args.tokenizer or "bpe"
    if args.resume:
        if args.out is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
            raise UsageError("--out and --resume name different folders (a resumed run stays "
                             "in its folder)")
        typed = typed_options(args)
        typed.setdefault("device", default_device())
        opts = resume_options(args.resume, typed)
    else:
        if args.task is None and args.data is None:
            raise UsageError("give a TASK, --data TRAIN.jsonl, or --resume DIR")
        if args.task is not None and args.data is not None:
            raise UsageError("give a TASK or --data, not both")
        opts = options_from_args(args)
    summary = train(opts, resume=args.resume)
    if summary:
        print(json.dumps(summary), flush=True)
    return 0
