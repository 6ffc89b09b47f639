"""Training checkpoints: one safetensors file, written atomically, loaded only from safetensors.

``checkpoint.safetensors`` holds every tensor of the run — ``model.*`` (the model's state dict,
compiled library included), ``optim.<i>.<name>`` (optimizer state), ``rng.torch`` (and
``rng.cuda.<d>``) — and, in its metadata, a JSON document with the step, the epoch, the
scheduler's and optimizer's non-tensor state, and the Python RNG state. It is written to a
temporary file in the same folder and moved into place with ``os.replace``, so a kill leaves
either the old checkpoint or the new one, never a torn file. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import random
import tempfile

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..lang.errors import UsageError

__all__ = ["CHECKPOINT", "check_model_dir", "init_from", "load_checkpoint", "save_checkpoint"]

CHECKPOINT = "checkpoint.safetensors"
FORMAT = "neuralc-train-checkpoint-1"
_PICKLES = ("checkpoint.pt", "checkpoint.pth", "checkpoint.bin", "pytorch_model.bin",
            "training_state.pt", "optimizer.pt")


def _atomic_save(tensors: dict[str, torch.Tensor], metadata: dict[str, str], path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(path: str, model, optimizer, scheduler, state: dict) -> None:
    """Write model + optimizer + scheduler + RNG states + ``state`` (JSON-able) atomically."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for i, st in opt["state"].items():
        for name, value in st.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{i}.{name}"] = value.detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for d, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{d}"] = s
    meta = {
        "format": FORMAT,
        "state": state,
        "param_groups": opt["param_groups"],
        "optim_scalars": {str(i): {k: v for k, v in st.items() if not isinstance(v, torch.Tensor)}
                          for i, st in opt["state"].items()},
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "python_random": _py_random_state(),
    }
    _atomic_save(tensors, {"neuralc": json.dumps(meta)}, path)


def _py_random_state():
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _refuse_pickles(folder: str) -> None:
    for name in _PICKLES:
        if os.path.exists(os.path.join(folder, name)):
            raise UsageError(f"{os.path.join(folder, name)}: not a safetensors checkpoint; "
                             "neuralc only loads safetensors (pickled checkpoints can run code)")


def load_checkpoint(path: str, model, optimizer, scheduler, device) -> dict:
    """Restore everything :func:`save_checkpoint` wrote; returns the ``state`` dict.

    Raises :class:`UsageError` (``neuralc: error: ...``) for a missing, pickled or corrupt file.
    """
    folder = os.path.dirname(path) or "."
    if not os.path.exists(path):
        _refuse_pickles(folder)
        raise UsageError(f"{path}: no checkpoint to resume from")
    try:
        tensors = load_file(path)
        from safetensors import safe_open

        with safe_open(path, "pt") as f:
            raw = (f.metadata() or {}).get("neuralc")
        meta = json.loads(raw) if raw else None
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: corrupt or not a safetensors checkpoint ({e})") from None
    if not meta or meta.get("format") != FORMAT:
        raise UsageError(f"{path}: not a neuralc training checkpoint (no '{FORMAT}' metadata)")
    sd = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    expected = set(model.state_dict())
    if set(sd) != expected:
        raise UsageError(f"{path}: checkpoint does not match the model (missing "
                         f"{sorted(expected - set(sd))[:3]}, unexpected "
                         f"{sorted(set(sd) - expected)[:3]})")
    model.load_state_dict(sd)
    state = {}
    for i, scalars in meta["optim_scalars"].items():
        state[int(i)] = dict(scalars)
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            # fresh storage (safetensors tensors are views at arbitrary offsets of one buffer)
            state.setdefault(int(i), {})[name] = (v.to(device) if name != "step" else v).clone()
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    if scheduler is not None and meta["scheduler"] is not None:
        scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    v, internal, gauss = meta["python_random"]
    random.setstate((v, tuple(internal), gauss))
    return meta["state"]


def check_model_dir(folder: str) -> None:
    """Refuse a model folder without a readable ``model.safetensors`` (clear error, exit 2)."""
    if not os.path.isdir(folder):
        raise UsageError(f"{folder}: no such model directory")
    path = os.path.join(folder, "model.safetensors")
    if not os.path.exists(path):
        _refuse_pickles(folder)
        raise UsageError(f"{folder}: no model.safetensors (train one with 'neuralc train')")
    if not os.path.exists(os.path.join(folder, "config.json")):
        raise UsageError(f"{folder}: no config.json")
    try:
        from safetensors import safe_open

        with safe_open(path, "pt") as f:
            for k in f.keys():  # noqa: SIM118 -- safe_open is not a dict
                f.get_slice(k)
    except (SafetensorError, OSError, ValueError) as e:
        raise UsageError(f"{path}: corrupt or not a safetensors file ({e})") from None


def init_from(model, folder: str) -> dict[str, list[str]]:
    """Copy into ``model`` every trained tensor of the model folder ``folder`` that fits.

    Transfer between tasks (e.g. a Fibonacci model starting from an arithmetic model's backbone
    and parser): a tensor is copied when ``model`` has a trainable parameter of the same name
    and shape. The compiled library (``computer.*``) is never copied — it is the task's own
    program — and neither are heads whose shape differs (a selection head over other
    programs). The token embedding is copied token by token: each of ``model``'s rows gets the
    saved model's row of the same token (their trimmed vocabularies may differ). Returns
    ``{"copied": [...], "skipped": [...]}``.
    """
    check_model_dir(folder)
    path = os.path.join(folder, "model.safetensors")
    try:
        saved = load_file(path)
    except (SafetensorError, OSError) as e:
        raise UsageError(f"{path}: corrupt or not a safetensors file ({e})") from None
    params = {k: p for k, p in model.named_parameters() if not k.startswith("computer.")}
    embedding = next(k for k, p in params.items()
                     if p is model.backbone.get_input_embeddings().weight)
    copied, skipped = [], []
    with torch.no_grad():
        for k, p in params.items():
            if k == embedding and k in saved and saved[k].shape[1:] == p.shape[1:]:
                _copy_embedding(model, p, saved[k], saved.get("kept_tokens"))
                copied.append(k)
            elif k in saved and saved[k].shape == p.shape:
                p.copy_(saved[k].to(p.dtype))
                copied.append(k)
            else:
                skipped.append(k)
    if not copied:
        raise UsageError(f"{folder}: no tensor of that model fits this one (another backbone?)")
    return {"copied": copied, "skipped": skipped}


def _copy_embedding(model, weight, saved, saved_kept) -> None:
    """Give every row of ``model``'s token embedding ``weight`` the row the saved model gives
    the same token (either may have a trimmed vocabulary; the tokenizer is the same). The
    unknown row of a trimmed ``model`` takes the saved unknown row when there is one."""
    from .modeling import token_rows

    kept = model.kept_tokens
    tokens = kept if kept is not None else torch.arange(weight.shape[0])
    rows = token_rows(saved_kept, tokens)
    if rows.numel() and int(rows.max()) >= saved.shape[0]:
        raise UsageError("the saved model's token embedding does not fit this tokenizer")
    weight[: tokens.numel()] = saved[rows].to(weight.dtype)
    if kept is not None and saved_kept is not None:
        weight[-1] = saved[-1].to(weight.dtype)
