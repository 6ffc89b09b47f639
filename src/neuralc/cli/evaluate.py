"""``neuralc evaluate MODEL_DIR DATA.jsonl``: score a trained model on a data file.

Prints the accuracy (and per answer kind), ends with one JSON line holding ``accuracy``;
``--predictions OUT.jsonl`` writes one JSON object per example, in the file's order. The data
file is checked as ``train --data`` checks it (``FILE:LINE: error: ...``, exit status 2,
nothing written).
"""

from __future__ import annotations

import json

from .options import add_device_option

__all__ = ["add_parser", "main"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score a trained model on a JSON-lines data file",
        description="Print the exact-match accuracy of a model written by 'neuralc train' on "
                    'DATA.jsonl (one {"text": ..., "answer": ...} object per line).')
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by 'neuralc train'")
    p.add_argument("data", metavar="DATA.jsonl", help="the examples to score")
    p.add_argument("--predictions", metavar="OUT.jsonl", default=None,
                   help="write one JSON object per example: prediction, answer, correct, "
                        "program and its probability")
    add_device_option(p)
    p.add_argument("--batch-size", type=int, default=128)


def main(args) -> int:
    from ..lang.asm import read_source
    from ..lang.errors import UsageError
    from ..lm.data import read_files
    from ..lm.evaluation import predictions
    from ..lm.predict import load_model

    read_source(args.data)  # a missing file stops before the model loads
    model, tok = load_model(args.model_dir, args.device)
    (examples,) = read_files([args.data], n=model.config.n)
    res, rows = predictions(model, tok, examples, args.device, args.batch_size)
    if args.predictions:
        try:
            with open(args.predictions, "w") as f:
                f.writelines(json.dumps(row) + "\n" for row in rows)
        except OSError as e:
            raise UsageError(f"cannot write {args.predictions}: {e.strerror or e}") from None
    print(f"{args.data}: accuracy {res['accuracy']:.4f} ({sum(r['correct'] for r in rows)}"
          f"/{len(rows)} examples)")
    for group, acc in res["groups"].items():
        print(f"  {group}: {acc:.4f}")
    print(json.dumps({"accuracy": res["accuracy"], "slot_accuracy": res["slot_accuracy"],
                      "examples": len(rows), "groups": res["groups"],
                      "model": args.model_dir, "data": args.data}))
    return 0
