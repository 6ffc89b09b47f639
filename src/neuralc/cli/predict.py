"""``neuralc predict MODEL_DIR TEXT...``: ask a trained model."""

from __future__ import annotations

import json

from .options import add_device_option

__all__ = ["add_parser", "main"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="ask a trained model (answer, selected program, parsed inputs)",
        description="Print the answer, the selected library program and the parsed inputs, "
                    "each with its probability.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by 'neuralc train'")
    p.add_argument("texts", nargs="+", metavar="TEXT", help='a request, e.g. "Add 3 and 4"')
    p.add_argument("--json", action="store_true", help="one JSON object per request")
    add_device_option(p)
    p.add_argument("--top", type=int, default=3, help="how many programs to list (default 3)")


def main(args) -> int:
    from ..lm.predict import format_prediction, load_model, predict

    model, tok = load_model(args.model_dir, args.device)
    for res in predict(model, tok, args.texts, top=args.top):
        print(json.dumps(res) if args.json else format_prediction(res))
    return 0
