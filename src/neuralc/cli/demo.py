"""``neuralc demo``: the short end-to-end run of the README.

Trains the small LLaMA with the compiled calculators on arithmetic mod 128 for a bounded time
(default 3 minutes on two CPU cores), reports the held-out accuracy, then answers a few held-out
questions showing the selected program and the parsed inputs. Offline; writes to ``--out``.
"""

from __future__ import annotations

import json
import sys

from .options import add_device_option

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
    p.add_argument("--tokenizer", default=None,
                   help="as neuralc train's: llama3 (the default when installed; its vocabulary "
                        "trimmed to the training texts) or bpe")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    add_device_option(p)
    p.add_argument("--epochs", type=_positive, default=15,
                   help="epochs of the learning-rate schedule (default 15; the budget stops it)")
    p.add_argument("--train-size", type=_positive, default=6000,
                   help="training examples (default 6000)")
    p.add_argument("--no-progress", action="store_true")


def _questions(task, seed: int, k: int = 6):
    """A few held-out requests: one unseen phrasing of each form (in order, reversed,
    distractor), then seen phrasings, each with a different op where possible."""
    pool = task.make_split("test", seed, 400)
    out: list = []
    forms = sorted({e.form for e in pool})
    for held in (True, False):
        for form in forms:
            cands = [e for e in pool if e.held_out_template is held and e.form == form]
            used = {q.group for q in out}
            if cands:
                out.append(next((e for e in cands if e.group not in used), cands[0]))
    return out[:k]


def main(args) -> int:
    from ..lm.predict import format_prediction, load_model, predict
    from ..lm.tasks import get_task
    from ..lm.training import TrainOptions, train

    try:
        task = get_task(args.task)
    except (KeyError, ValueError) as e:
        print(f"neuralc: error: {e}", file=sys.stderr)
        return 2
    # The schedule of a full 15-epoch run, cut by the wall-clock budget: its learning rate is
    # still high at 3 minutes, where a schedule squeezed into 3 minutes had already decayed
    # (measured: 0.31 with 4000 × 6 epochs against 0.89 at 160 s).
    opts = TrainOptions(task=args.task, tokenizer=args.tokenizer, out=args.out, seed=args.seed,
                        device=args.device, epochs=args.epochs, minutes=args.minutes,
                        train_size=args.train_size, test_size=500,
                        progress=not args.no_progress)
    print(f"neuralc demo: training a 2-layer LLaMA (hidden 128) that calls compiled calculators "
          f"on '{args.task}' for at most {args.minutes:g} min ...", file=sys.stderr)
    summary = train(opts)
    acc = summary.get("test_accuracy")
    groups = summary.get("test_groups") or {}
    held = groups.get("held_out_template")
    print(f"held-out accuracy: {acc if acc is None else f'{acc:.4f}'} after {summary['epochs']} "
          f"epochs ({summary['seconds']} s)"
          + (f"; unseen phrasing alone: {held:.4f}" if held is not None else "")
          + f"; model in {args.out}")
    model, tok = load_model(args.out, args.device)
    questions = _questions(task, args.seed)
    right = 0
    for e, res in zip(questions, predict(model, tok, [e.text for e in questions])):
        truth = list(e.answer) if isinstance(e.answer, tuple) else e.answer
        ok = res["answer"] == truth
        right += ok
        phr = f"  (unseen phrasing, {e.form})" if e.held_out_template else f"  ({e.form})"
        print(format_prediction(res) + f"\n  truth:   {truth} "
              f"({e.program} of {', '.join(map(str, e.inputs))}) "
              f"{'right' if ok else 'WRONG'}{phr}")
    print(json.dumps({"test_accuracy": acc, "held_out_template_accuracy": held,
                      "epochs": summary["epochs"], "seconds": summary["seconds"],
                      "questions_right": f"{right}/{len(questions)}", "out": args.out}))
    return 0
