"""Scoring a model on examples: the metrics of a run's validation and test splits, and one
prediction per example for ``neuralc evaluate``.

The model answers in slots (:func:`neuralc.lm.calls.answer_labels`: the kind, the value or the
list's length, the elements); its answer is read from the argmax of every slot
(:func:`neuralc.lm.calls.read_answer`: an int, or a list of the length the model read). An
example is right when that answer equals the truth: for a list, the same length and the same
elements.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .calls import read_answer
from .data import encode_examples, is_list
from .tasks import IGNORE, Example

__all__ = ["evaluate", "predictions"]


@torch.no_grad()
def _forward(model, ids, mask, labels, device, batch_size: int):
    """``(pred (B,O), selection (B,E) | None, halted (B,) | None, loss)`` in batches, on the
    CPU; ``loss`` is the training loss, averaged over the examples."""
    model.eval()
    preds, sels, halted, loss = [], [], [], 0.0
    for s in range(0, len(ids), batch_size):
        out = model(input_ids=ids[s:s + batch_size].to(device),
                    attention_mask=mask[s:s + batch_size].to(device),
                    labels=labels[s:s + batch_size].to(device))
        loss += out.loss.item() * len(ids[s:s + batch_size])
        preds.append(out.answer_log_probs.argmax(-1).cpu())
        if getattr(out, "selection", None) is not None:
            sels.append(out.selection.float().cpu())
            halted.append(out.halted.float().cpu())
    model.train()
    return (torch.cat(preds), torch.cat(sels) if sels else None,
            torch.cat(halted) if halted else None, loss / max(1, len(ids)))


def _programs(model) -> list[str]:
    return list(getattr(model.config, "programs", None) or [])


def _truth(e: Example) -> int | list[int]:
    return list(e.answer) if is_list(e) else int(e.answer)


def _metrics(pred, sel, halted, labels, examples: Sequence[Example], programs) -> dict:
    answers = [read_answer(row) for row in pred.tolist()]
    right = [a == _truth(e) for a, e in zip(answers, examples)]
    counted = labels != IGNORE
    res = {
        "accuracy": sum(right) / max(1, len(right)),
        "slot_accuracy": ((pred == labels) & counted).sum().item() / max(1, counted.sum().item()),
    }
    groups: dict[str, list[bool]] = {}
    for e, ok in zip(examples, right):
        groups.setdefault(e.group or ("list" if is_list(e) else "int"), []).append(ok)
        if e.form:  # built-in tasks: accuracy per phrasing form, and on held-out phrasings
            groups.setdefault(f"form={e.form}", []).append(ok)
        if e.held_out_template:
            groups.setdefault("held_out_template", []).append(ok)
            if e.form:
                groups.setdefault(f"held_out_template form={e.form}", []).append(ok)
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
    """Accuracy (the answer read back equals the truth), the training loss, per-slot accuracy
    over the counted slots, per-group and held-out-template accuracy, and, with a computer and labelled programs
    (built-in tasks), how often the argmax selection is the example's program (reported, never
    trained)."""
    ids, mask, labels = tensors
    pred, sel, halted, loss = _forward(model, ids, mask, labels, device, batch_size)
    return {**_metrics(pred, sel, halted, labels, examples, _programs(model)), "loss": loss}


def _rows(pred, sel, examples: Sequence[Example], programs) -> list[dict]:
    rows = []
    for i, e in enumerate(examples):
        answer = read_answer(pred[i].tolist())
        row = {"text": e.text, "prediction": answer, "answer": _truth(e),
               "correct": answer == _truth(e)}
        if sel is not None:
            p, j = sel[i].max(-1)
            row["program"] = programs[j.item()]
            row["program_probability"] = round(p.item(), 4)
        rows.append(row)
    return rows


def predictions(model, tok, examples: Sequence[Example], device,
                batch_size: int = 128) -> tuple[dict, list[dict]]:
    """``(metrics, rows)``: :func:`evaluate`'s metrics, and one dict per example, in order:
    ``prediction`` (an int, or a list of the length the model read), ``answer``, ``correct``,
    and with a computer the selected ``program`` and its ``program_probability``."""
    ids, mask, labels = encode_examples(tok, list(examples), model.config.outputs)
    pred, sel, halted, loss = _forward(model, ids, mask, labels, device, batch_size)
    programs = _programs(model)
    return ({**_metrics(pred, sel, halted, labels, examples, programs), "loss": loss},
            _rows(pred, sel, examples, programs))
