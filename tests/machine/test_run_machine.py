"""``run_machine``: the sharp machine run behind ``neuralc run --backend machine``."""

from __future__ import annotations

import pytest
import torch
from machine_programs import call_ret, sum_loop

from neuralc.lang.errors import UsageError
from neuralc.lang.interp import run_reference
from neuralc.lang.program import Op, Program, Sizes, Target
from neuralc.machine import run_machine


def counting_loop(k: int, n: int = 16) -> Program:
    """k·n iterations of 'dec r0; jump-if-not-zero' nested in a dec of r1: a long run."""
    return Program([
        (Op("dec", (0, 0)),),            # 0
        (Op("not", (0, 2)),),            # 1: r2 = r0 == 0
        (Op("not", (2, 2)),),            # 2: r2 = r0 != 0
        (Op("jump", (2, Target(0))),),   # 3
        (Op("dec", (1, 1)),),            # 4
        (Op("not", (1, 2)),),            # 5
        (Op("not", (2, 2)),),            # 6
        (Op("jump", (2, Target(0))),),   # 7
        (Op("halt"),),
    ], Sizes(n=n, registers=3))


@pytest.mark.parametrize("dtype", ["float32", "float64", torch.float64])
def test_long_loop_exact(dtype):
    program = counting_loop(3)
    ref = run_reference(program, {0: 0, 1: 3}, max_steps=5000)
    assert ref.halted and ref.steps > 150
    got = run_machine(program, {0: 0, 1: 3}, max_steps=5000, alu="dense", dtype=dtype)
    assert (got.halted, got.steps, got.registers, got.memory) == (
        ref.halted, ref.steps, ref.registers, ref.memory)
    assert got.confidence == 1.0


def test_budget_not_halted_and_check_every():
    program = sum_loop()
    ref = run_reference(program, [9], max_steps=17)
    assert not ref.halted
    for every in (1, 5, 64):
        got = run_machine(program, [9], max_steps=17, alu="dense", check_every=every)
        assert (got.halted, got.steps, got.registers) == (False, 17, ref.registers)
        assert got.counter == ref.counter
    done = run_reference(program, [9])
    for every in (1, 5, 64):
        got = run_machine(program, [9], alu="dense", check_every=every)
        assert (got.halted, got.steps, got.registers) == (True, done.steps, done.registers)


def test_entry_memory_and_general_path():
    program = call_ret()
    mem = {0: 3, 5: 7}
    for entry in (0, 3, program.L):
        ref = run_reference(program, {0: 2}, mem, entry=entry)
        for fast in (True, False):
            got = run_machine(program, {0: 2}, mem, entry=entry, alu="sparse", fast=fast)
            assert (got.halted, got.steps, got.registers, got.memory) == (
                ref.halted, ref.steps, ref.registers, ref.memory)


def test_json_shape():
    got = run_machine(sum_loop(), {0: 3}, alu="dense")
    js = got.to_json()
    assert list(js) == ["halted", "steps", "registers", "memory", "confidence"]
    assert js["registers"][3] == 6 and js["confidence"] >= 0.999


@pytest.mark.parametrize("kwargs", [
    {"alu": "bogus"},
    {"dtype": "float16"},
    {"dtype": torch.int64},
    {"device": "tpu"},
    {"device": "nonsense:0"},
    {"registers": {7: 1}},
    {"memory": [0] * 17},
])
def test_bad_options_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        run_machine(sum_loop(), **kwargs)


def test_circuit_needs_power_of_two():
    program = Program([(Op("inc", (0, 0)),)], Sizes(n=5, registers=1))
    with pytest.raises(UsageError):
        run_machine(program, alu="circuit")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_unavailable_is_a_usage_error():
    with pytest.raises(UsageError, match="CUDA"):
        run_machine(sum_loop(), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("alu", ["dense", "sparse", "circuit"])
def test_cuda_run(alu):
    program = sum_loop()
    ref = run_reference(program, {0: 5})
    got = run_machine(program, {0: 5}, alu=alu, device="cuda")
    assert (got.halted, got.steps, got.registers) == (ref.halted, ref.steps, ref.registers)
