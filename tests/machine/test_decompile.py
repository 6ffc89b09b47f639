"""Decompiling parameters back into programs (docs/DESIGN.md §7.5): decompile(encode(p)) == p."""

from __future__ import annotations

import cases
import pytest
import torch
from hypothesis import given, settings
from machine_programs import call_ret, programs, sum_loop

from neuralc.lang.asm import assemble
from neuralc.machine import decompile, decompile_text, encode, entropies


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.name)
def test_roundtrip_case_table(case):
    program = case.program()
    for logits in (False, True):
        back, notes = decompile(encode(program, logits=logits))
        assert back == program
        assert [len(line) for line in back.lines] == [len(line) for line in program.lines]
        assert set(notes) == {(i, s) for i, s, _ in program.ops()}
    text = decompile_text(encode(program))
    assert assemble(text) == program  # the text is valid assembly for the same program


@settings(max_examples=60, deadline=None)
@given(program=programs(ns=(2, 8, 16, 128), widths=(1, 2, 3)))
def test_roundtrip_random(program):
    assert decompile(encode(program))[0] == program
    assert decompile(encode(program, logits=True, sharpness=5.0, W=4))[0] == program


def test_annotations_and_entropy_of_a_soft_program():
    params = encode(sum_loop(), logits=True, sharpness=3.0)
    with torch.no_grad():
        params.reg_a[3, 0, :] = torch.tensor([0.0, 0.0, 0.0, 2.9])  # almost a tie at line 3
    program, notes = decompile(params)
    assert program == sum_loop()  # the argmax is unchanged
    p_exact = torch.softmax(params.instr[3, 0], -1).max().item()
    assert notes[(3, 0)].startswith("p=")
    assert f"add {p_exact:.3f}" in notes[(3, 0)]
    H = entropies(params)
    assert H["reg_a"][3, 0] > H["reg_a"][0, 0]
    assert (H["instr"] >= 0).all()
    text = decompile_text(params)
    assert "add r3 r0 r3" in text and "; p=" in text


def test_width_two_and_learned_extra_slot():
    params = encode(call_ret())
    assert decompile(params)[0] == call_ret()
    # a slot that was nop padding but now holds an instruction is kept
    with torch.no_grad():
        params.instr[0, 1].zero_()
        params.instr[0, 1, 5] = 1.0  # inc
    program, _ = decompile(params)
    assert len(program.lines[0]) == 2 and program.lines[0][1].name == "inc"
