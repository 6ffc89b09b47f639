"""``neuralc demo``: the short end-to-end run of the README.

Trains the small LLaMA with the compiled calculators on arithmetic mod 128 for a bounded time
(default 3 minutes on two CPU cores), reports the held-out accuracy, then answers a few held-out
questions showing the selected program and the parsed inputs. Offline; writes to ``--out``.
"""

from __future__ import annotations

import json
import sys

__all__ = ["add_parser", "main"]


def add_parser(subparsers) -> None:
    from .train import _pos_float, _positive

    p = subparsers.add_parser(
        "demo", help="train a small LLaMA with the compiled library for a few minutes, then ask it",
        description="Train the small LLaMA with the compiled calculators on arithmetic mod 128 "
                    "(a bounded time), report held-out accuracy, then answer a few questions.")
    p.add_argument("--minutes", type=_pos_float, default=3.0,
                   help="training budget in minutes (default 3)")
    p.add_argument("--task", default="arithmetic",
                   help="task (default arithmetic: add, sub, mul, inc, dec, min, max mod 128)")
    p.add_argument("--tokenizer", default="bpe",
                   help="bpe (default, fast), llama3 (the real Llama-3 tokenizer, slower)")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=_positive, default=8)
    p.add_argument("--no-progress", action="store_true")


def main(args) -> int:
    from ..lm.predict import format_prediction, load_model, predict
    from ..lm.tasks import get_task
    from ..lm.training import TrainOptions, train

    opts = TrainOptions(task=args.task, tokenizer=args.tokenizer, out=args.out, seed=args.seed,
                        device=args.device, epochs=args.epochs, minutes=args.minutes,
                        train_size=6000, test_size=500, progress=not args.no_progress)
    print(f"neuralc demo: training a 2-layer LLaMA (hidden 128) that calls compiled calculators "
          f"on '{args.task}' for at most {args.minutes:g} min ...", file=sys.stderr)
    summary = train(opts)
    print(f"held-out accuracy: {summary['test_accuracy']:.4f} after {summary['epochs']} epochs "
          f"({summary['seconds']} s); model in {args.out}")
    model, tok = load_model(args.out, args.device)
    task = get_task(args.task)
    questions = [e.text for e in task.make_split("test", args.seed, 40)[::8]]
    truth = {e.text: e.answer for e in task.make_split("test", args.seed, 40)}
    for res in predict(model, tok, questions):
        print(format_prediction(res) + f"\n  truth:   {', '.join(map(str, truth[res['text']]))}")
    print(json.dumps({"test_accuracy": summary["test_accuracy"], "epochs": summary["epochs"],
                      "seconds": summary["seconds"], "out": args.out}))
    return 0
