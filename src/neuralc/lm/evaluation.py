"""Scoring a model on examples: accuracy for a run's validation and test splits, and one
prediction per example for ``neuralc evaluate``.

An example is right when every slot of its answer is right (exact match); slots past the
answer's end (label ``IGNORE``) do not count, and an answer longer than the model's slots counts
its missing slots as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .data import answer_values, encode_examples, is_list
from .tasks import IGNORE, Example

__all__ = ["evaluate", "predictions"]


@torch.no_grad()
def _forward(model, ids, mask, device, batch_size: int):
    """``(pred (B,O), selection (B,E) | None, halted (B,) | None)`` in batches, on the CPU."""
    model.eval()
    preds, sels, halted = [], [], []
    for s in range(0, len(ids), batch_size):
        out = model(input_ids=ids[s:s + batch_size].to(device),
                    attention_mask=mask[s:s + batch_size].to(device))
        preds.append(out.answer_log_probs.argmax(-1).cpu())
        if getattr(out, "selection", None) is not None:
            sels.append(out.selection.float().cpu())
            halted.append(out.halted.float().cpu())
    model.train()
    return (torch.cat(preds), torch.cat(sels) if sels else None,
            torch.cat(halted) if halted else None)


def _programs(model) -> list[str]:
    return list(getattr(model.config, "programs", None) or [])


def _widen(pred: torch.Tensor, width: int) -> torch.Tensor:
    """``pred`` (B,O) padded to (B,width) with -1 (a value no label has)."""
    if pred.shape[1] >= width:
        return pred[:, :width]
    return torch.cat([pred, pred.new_full((pred.shape[0], width - pred.shape[1]), -1)], 1)


def _metrics(pred, sel, halted, labels, examples: Sequence[Example], programs) -> dict:
    pred = _widen(pred, labels.shape[1])
    counted = labels != IGNORE
    exact = ((pred == labels) | ~counted).all(-1)
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
    if sel is not None:
        labelled = [(c, e) for c, e in zip(sel.argmax(-1).tolist(), examples) if e.program]
        if labelled:
            res["selection_accuracy"] = sum(programs[c] == e.program
                                            for c, e in labelled) / len(labelled)
        res["selection_entropy"] = (-(sel * sel.clamp_min(1e-12).log()).sum(-1)).mean().item()
        res["halted"] = halted.mean().item()
    return res


def evaluate(model, tensors, examples: Sequence[Example], device, batch_size: int = 128) -> dict:
    """Exact-match accuracy (every counted slot right), per-slot accuracy, per-group and
    held-out-template accuracy, and, with a computer and labelled programs (built-in tasks), how
    often the argmax selection is the example's program (reported, never trained)."""
    ids, mask, labels = tensors
    pred, sel, halted = _forward(model, ids, mask, device, batch_size)
    return _metrics(pred, sel, halted, labels, examples, _programs(model))


def _rows(pred, sel, examples: Sequence[Example], programs) -> list[dict]:
    rows = []
    for i, e in enumerate(examples):
        truth = list(answer_values(e))
        values = _widen(pred[i:i + 1], len(truth))[0].tolist()
        row = {"text": e.text, "prediction": values if is_list(e) else values[0],
               "answer": truth if is_list(e) else truth[0], "correct": values == truth}
        if sel is not None:
            p, j = sel[i].max(-1)
            row["program"] = programs[j.item()]
            row["program_probability"] = round(p.item(), 4)
        rows.append(row)
    return rows


def predictions(model, tok, examples: Sequence[Example], device,
                batch_size: int = 128) -> tuple[dict, list[dict]]:
    """``(metrics, rows)``: :func:`evaluate`'s metrics, and one dict per example, in order:
    ``prediction`` (an int, or for a list answer a list of the answer's length), ``answer``,
    ``correct``, and with a computer the selected ``program`` and its
    ``program_probability``."""
    ids, mask, labels = encode_examples(tok, list(examples), model.config.outputs)
    pred, sel, halted = _forward(model, ids, mask, device, batch_size)
    programs = _programs(model)
    return (_metrics(pred, sel, halted, labels, examples, programs),
            _rows(pred, sel, examples, programs))
