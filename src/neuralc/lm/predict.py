"""Asking a trained model: the answer, the selected program and the parsed inputs."""

from __future__ import annotations

import torch

from .calls import read_answer

__all__ = ["format_prediction", "load_model", "predict"]


def load_model(folder: str, device: str = "cpu"):
    """(model, tokenizer) from a folder written by ``neuralc train`` (safetensors only)."""
    from transformers import AutoModel

    from . import NeuralCompilerConfig  # noqa: F401  (registers the Auto classes)
    from .checkpoint import check_model_dir
    from .tokenization import load_tokenizer

    check_model_dir(folder)
    model = AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    return model.to(device).eval(), load_tokenizer(folder)


@torch.no_grad()
def predict(model, tok, texts: list[str], top: int = 3) -> list[dict]:
    """One dict per text: ``answer`` (list of ints) with ``answer_probs``, and, with a computer,
    ``programs`` (top selections with probabilities), ``inputs`` (name → value, probability)
    and ``halted``."""
    device = next(model.parameters()).device
    enc = tok(texts, padding=True, return_tensors="pt").to(device)
    out = model(**enc)
    probs = out.answer_log_probs.exp()
    cfg = model.config
    results = []
    for i, text in enumerate(texts):
        p, v = probs[i].max(-1)
        # the answer's kind, then the integer or the list of the length the model read
        answer = read_answer(v.tolist())
        shown = 1 + (len(answer) if isinstance(answer, list) else 0)
        res = {"text": text, "answer": answer,
               "answer_probs": [round(x, 4) for x in p.tolist()[1:1 + shown]]}
        if out.selection is not None:
            s, idx = out.selection[i].topk(min(top, out.selection.shape[-1]))
            res["programs"] = [[cfg.programs[j], round(x, 4)] for j, x in zip(idx.tolist(),
                                                                              s.tolist())]
            res["inputs"] = {}
            if out.parsed_inputs is not None:
                xp, xv = out.parsed_inputs[i].max(-1)
                res["inputs"] = {name: [val, round(pr, 4)] for name, val, pr in zip(
                    cfg.input_names, xv.tolist(), xp.tolist())}
            if out.list_lengths is not None:
                for q in range(out.list_lengths.shape[1]):
                    lp, lv = out.list_lengths[i, q].max(-1)
                    ep, ev = out.list_elements[i, q, : lv.item()].max(-1)
                    res["inputs"][f"list{q}"] = [ev.tolist(), round(min([lp.item()] + ep.tolist()),
                                                                    4)]
            res["halted"] = round(out.halted[i].item(), 4)
        results.append(res)
    return results


def format_prediction(res: dict) -> str:
    ans = res["answer"]
    ans = "[" + ", ".join(map(str, ans)) + "]" if isinstance(ans, list) else str(ans)
    lines = [f"{res['text']}", f"  answer:  {ans}   (p = "
             + ", ".join(f"{p:.3f}" for p in res["answer_probs"]) + ")"]
    if "programs" in res:
        best, rest = res["programs"][0], res["programs"][1:]
        alt = "; ".join(f"{n} {p:.3f}" for n, p in rest)
        lines.append(f"  program: {best[0]} (p = {best[1]:.3f})" + (f"   [{alt}]" if alt else ""))
        lines.append("  inputs:  " + ", ".join(f"{k} = {v} (p = {p:.3f})"
                                               for k, (v, p) in res["inputs"].items()))
        lines.append(f"  halted:  {res['halted']:.3f}")
    return "\n".join(lines)
