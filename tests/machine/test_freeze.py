"""Freezing by gradient masks (docs/DESIGN.md §7.4): frozen entries stay bit-identical under Adam."""

from __future__ import annotations

import pytest
import torch
from machine_helpers import EinsumALU
from machine_programs import sum_loop

from neuralc.machine import FIELDS, DifferentiableComputer, freeze, freeze_module, line_mask


def trained_computer(steps=3, **freeze_kw):
    torch.manual_seed(0)
    program = sum_loop(8)
    computer = DifferentiableComputer.from_program(
        program, EinsumALU(8, torch.float64), logits=True, sharpness=2.0, trainable=True,
        dtype=torch.float64)
    with torch.no_grad():
        for p in computer.program.parameters():
            p.add_(0.3 * torch.randn_like(p))
    before = {k: v.detach().clone() for k, v in computer.program.fields().items()}
    handle = freeze(computer.program, **freeze_kw) if freeze_kw else None
    opt = torch.optim.Adam(computer.program.parameters(), lr=0.05)
    for _ in range(steps):
        state = computer.initial_state(batch=2, registers={0: 3})
        out = computer(state, 6, readout="mixture")
        loss = -torch.log(out.readout("mixture").registers[:, 3, 6] + 1e-9).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return computer, before, handle


def test_frozen_lines_are_bit_identical_and_others_move():
    frozen_lines = [0, 2, 5]
    computer, before, _ = trained_computer(lines=frozen_lines)
    after = computer.program.fields()
    for name in FIELDS:
        for line in range(computer.L):
            same = torch.equal(before[name][line], after[name][line].detach())
            if line in frozen_lines:
                assert same, (name, line)
    moved = [line for line in range(computer.L) if line not in frozen_lines
             and not torch.equal(before["instr"][line], after["instr"][line].detach())]
    assert moved, "unfrozen lines should learn"


def test_frozen_field_only():
    computer, before, _ = trained_computer(fields=["instr", "target"])
    after = computer.program.fields()
    assert torch.equal(before["instr"], after["instr"].detach())
    assert torch.equal(before["target"], after["target"].detach())
    assert not torch.equal(before["reg_a"], after["reg_a"].detach())


def test_explicit_mask_and_restore_with_weight_decay():
    """AdamW moves zero-gradient entries (weight decay); restore() writes them back."""
    torch.manual_seed(0)
    computer = DifferentiableComputer.from_program(
        sum_loop(8), EinsumALU(8, torch.float64), logits=True, sharpness=2.0, trainable=True,
        dtype=torch.float64)
    mask = line_mask(computer.program, lines=[1])
    handle = freeze(computer.program, mask)
    before = computer.program.instr.detach().clone()
    opt = torch.optim.AdamW(computer.program.parameters(), lr=0.05, weight_decay=0.1)
    for _ in range(3):
        out = computer(computer.initial_state(registers={0: 2}), 4)
        opt.zero_grad()
        out.state.registers[:, 3, 1].sum().backward()
        assert computer.program.instr.grad[1].abs().max() == 0
        opt.step()
        handle.restore()
    assert torch.equal(before[1], computer.program.instr[1].detach())
    handle.remove()
    opt.zero_grad()
    out = computer(computer.initial_state(registers={0: 2}), 4)
    out.state.registers[:, 3, 1].sum().backward()
    assert computer.program.instr.grad[1].abs().max() > 0  # the mask is gone


def test_freeze_module_and_bad_input():
    computer = DifferentiableComputer.from_program(sum_loop(8), EinsumALU(8), trainable=True)
    freeze_module(computer.program)
    assert not any(p.requires_grad for p in computer.program.parameters())
    with pytest.raises(ValueError):
        freeze(computer.program, fields=["nope"])
    with pytest.raises(ValueError):
        freeze(computer.alu)  # a plain module needs an explicit mask
