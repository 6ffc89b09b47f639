"""Score a trained model with another program of the same interface in its library.

    python examples/library/swap_program.py MODEL_DIR TASK PROGRAM [--test-size N]

e.g. a sorting model trained through the parallel ``sort_network``, asked to call the paper's
sequential insertion sort compiled from Python (``insertion_sort_py``) instead: the same parse,
another compiled program. ``--sharp`` runs the machine on the argmax of the parse (one-hot
inputs) instead of the parse's distributions. Prints one JSON line: the test accuracy with
PROGRAM, its step budget, and the seconds per request of the run.
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

from neuralc.lm import get_task
from neuralc.lm.build import build_task_model
from neuralc.lm.checkpoint import init_from
from neuralc.lm.data import encode_examples
from neuralc.lm.evaluation import evaluate
from neuralc.lm.tokenization import load_tokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("task")
    ap.add_argument("program")
    ap.add_argument("--test-size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sharp", action="store_true", help="one-hot inputs: the argmax parse")
    args = ap.parse_args()
    torch.set_num_threads(1)
    task = get_task(args.task)
    # every token its own row (no texts to trim to): init_from gives each the trained model's
    # row of that token
    model, _ = build_task_model(task, library=args.program, texts=["0"], tokenizer=args.model,
                                seed=args.seed, trim_vocabulary=False)
    init_from(model, args.model)  # every trained tensor; the library stays the new program's
    tok = load_tokenizer(args.model)
    if args.sharp:
        parse = model.parser.forward

        def sharp(*a, **kw):
            return tuple(None if x is None or x.dim() < 3 else
                         F.one_hot(x.argmax(-1), x.shape[-1]).to(x.dtype)
                         for x in parse(*a, **kw)[:3]) + (None,)
        model.parser.forward = sharp
    test = task.make_split("test", args.seed, args.test_size)
    tensors = encode_examples(tok, test, model.config.outputs)
    t = time.time()
    res = evaluate(model, tensors, test, "cpu", batch_size=50)
    print(json.dumps({"program": args.program, "sharp": args.sharp,
                      "budget": model.config.budgets,
                      "test_accuracy": res["accuracy"], "groups": res["groups"],
                      "seconds_per_request": round((time.time() - t) / len(test), 3)}))


if __name__ == "__main__":
    main()
