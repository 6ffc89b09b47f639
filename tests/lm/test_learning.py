"""A tiny configuration learns from answers alone within seconds: the parse of the operand
(which number each token denotes, never supervised) becomes right far above chance (1/128)."""

import torch

from neuralc.lm.build import build_task_model
from neuralc.lm.tasks import Task
from neuralc.lm.training import encode_examples


def test_tiny_model_learns_to_parse_from_answers_only():
    torch.manual_seed(0)
    task = Task("inc-dec", "arithmetic", ops=("inc", "dec"))
    # the reader of every token is learned here (no number-token copy)
    model, tok = build_task_model(task, tokenizer="bpe", hidden=32, seed=0, copy_numbers=False)
    train = task.make_split("train", 0, 1024)
    ids, mask, labels = encode_examples(tok, train, model.config.outputs)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)

    def parse_accuracy():
        with torch.no_grad():
            x = model(input_ids=ids, attention_mask=mask).parsed_inputs[:, 0].argmax(-1)
        return (x == torch.tensor([e.inputs[0] for e in train])).float().mean().item()

    before = parse_accuracy()
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        perm = torch.randperm(len(train), generator=g)
        for s in range(0, len(train), 16):
            i = perm[s:s + 16]
            loss = model(input_ids=ids[i], attention_mask=mask[i], labels=labels[i]).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    after = parse_accuracy()
    assert before < 0.05 and after > 0.3, (before, after)
