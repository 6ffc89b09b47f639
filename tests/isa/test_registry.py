"""The instruction registry against the docs/LANGUAGE.md §2 table, written out here by hand."""

import cases
import pytest

from neuralc.isa import BY_NAME, CONTROL_OPS, INSTRUCTIONS, OPCODE, TABLE_OPS, opcode

# docs/LANGUAGE.md §2: instruction → operand kinds (destination last)
SPEC_OPERANDS = {
    "nop": "", "halt": "", "zero": "D", "set": "ID", "copy": "RD", "inc": "RD", "dec": "RD",
    "not": "RD", "add": "RRD", "sub": "RRD", "mul": "RRD", "div": "RRD", "mod": "RRD",
    "min": "RRD", "max": "RRD", "and": "RRD", "or": "RRD", "xor": "RRD", "eq": "RRD",
    "ne": "RRD", "lt": "RRD", "le": "RRD", "gt": "RRD", "ge": "RRD", "read": "RD", "write": "RR",
    "jump": "RT", "goto": "T", "call": "TD", "ret": "R", "store": "D",
}


def test_every_spec_instruction_once_with_its_operands():
    assert [i.name for i in INSTRUCTIONS] == list(BY_NAME)  # names unique
    assert {i.name: i.operands for i in INSTRUCTIONS} == SPEC_OPERANDS


def test_destination_is_last_and_opcodes_follow_the_axis():
    for i, ins in enumerate(INSTRUCTIONS):
        assert "D" not in ins.operands[:-1]
        assert OPCODE[ins.name] == opcode(ins.name) == i


def test_control_ops():
    assert set(CONTROL_OPS) == {"halt", "jump", "goto", "call", "ret"}
    assert all(BY_NAME[c].is_control for c in CONTROL_OPS)


def test_table_ops_are_the_value_ops_of_the_spec():
    assert set(TABLE_OPS) == set(cases.SPEC_FORMULAS) - {"copy"}


@pytest.mark.parametrize("n", [2, 5, 8, 16])
@pytest.mark.parametrize("name", TABLE_OPS)
def test_table_matches_spec_formula_on_every_pair(name, n):
    table = BY_NAME[name].table(n)
    spec = cases.SPEC_FORMULAS[name]
    assert len(table) == n and all(len(row) == n for row in table)
    for a in range(n):
        for b in range(n):
            assert table[a][b] == spec(a, b, n), (name, a, b, n)
            assert 0 <= table[a][b] < n


def test_non_table_ops_have_no_table():
    for ins in INSTRUCTIONS:
        if ins.kind != "table":
            with pytest.raises(ValueError):
                ins.table(4)
