"""A user's library: every function of a Python-subset file is a program the model may select,
with its scalars and lists parsed from the request, trained on answers alone."""

import json

import torch

from neuralc.lm.build import build_model
from neuralc.lm.data import read_data
from neuralc.lm.training import encode_examples

LIBRARY = '''
def plus_double(a, b):
    return a + 2 * b


def largest(xs):
    best = 0
    for x in xs:
        best = max(best, x)
    return best
'''


def _data(tmp_path, lines=40):
    rows = []
    for i in range(lines):
        a, b = (7 * i) % 50, (3 * i + 1) % 40
        if i % 2:
            rows.append({"text": f"Add {a} and twice {b}", "answer": (a + 2 * b) % 128})
        else:
            xs = [(a + 5 * j) % 90 for j in range(2 + i % 3)]
            rows.append({"text": "Largest of " + ", ".join(map(str, xs)), "answer": max(xs)})
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_user_library_of_two_functions_trains_from_a_small_file(tmp_path):
    lib = tmp_path / "lib.py"
    lib.write_text(LIBRARY)
    examples, errors = read_data(str(_data(tmp_path)))
    assert not errors
    texts = [e.text for e in examples]
    model, tok = build_model(str(lib), texts, tokenizer="bpe", hidden=32, seed=0)
    cfg = model.config
    assert cfg.programs == ["plus_double", "largest"]
    assert cfg.capacity == 4  # the most numbers of a training request
    assert model.computer.scalar_slots == 2 and model.computer.list_slots == 1
    assert all("source" in spec for spec in cfg.library)  # the folder rebuilds the library
    ids, mask, labels = encode_examples(tok, examples, cfg.outputs)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    losses = []
    for _ in range(12):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < losses[0] - 0.15, losses
    # the parse of the list reaches the gate from the answers alone
    assert model.parser.lists.gate.weight.grad.abs().sum() > 0


def test_a_saved_user_library_model_loads_without_its_file(tmp_path):
    from transformers import AutoModel

    lib = tmp_path / "lib.py"
    lib.write_text(LIBRARY)
    examples, _ = read_data(str(_data(tmp_path, 8)))
    model, tok = build_model(str(lib), [e.text for e in examples], tokenizer="bpe", hidden=32)
    model.save_pretrained(tmp_path / "m")
    lib.unlink()
    loaded = AutoModel.from_pretrained(tmp_path / "m")
    ids, mask, _ = encode_examples(tok, examples, model.config.outputs)
    model.eval(), loaded.eval()
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids, attention_mask=mask).answer_log_probs,
                           loaded(input_ids=ids, attention_mask=mask).answer_log_probs)
