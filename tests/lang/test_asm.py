"""The assembler (docs/LANGUAGE.md §2): round trips through the printer, every error with its exact place."""

import cases
import pytest
from hypothesis import given, settings

from neuralc.lang.asm import assemble, assemble_file
from neuralc.lang.errors import CompileError, UsageError
from neuralc.lang.printer import format_program
from neuralc.lang.program import Op, Sizes, Target

_OPTION_FIELDS = {"--n": "n", "--registers": "registers", "--memory": "memory", "--width": "width"}


def _overrides(extra: list[str]) -> dict:
    return {_OPTION_FIELDS[extra[i]]: int(extra[i + 1]) for i in range(0, len(extra), 2)}


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.name)
def test_round_trip_of_the_case_table(case):
    program = case.program()
    again = assemble(format_program(program), "printed.asm")
    assert again == program
    assert again.sizes.width == program.sizes.width and again.labels == program.labels


@settings(max_examples=100, deadline=None)
@given(cases.programs())
def test_round_trip_of_random_programs(sample):
    program = sample[0]
    text = format_program(program)
    again = assemble(text, "random.asm")
    assert again == program, text
    assert again.width == program.width


@pytest.mark.parametrize("name, source, extra, expected", cases.MALFORMED,
                         ids=[m[0] for m in cases.MALFORMED])
def test_malformed_sources_report_every_error_in_place(name, source, extra, expected):
    with pytest.raises(CompileError) as info:
        assemble(source, "bad.asm", _overrides(extra))
    got = [(d.line, d.col, d.message) for d in info.value.diagnostics]
    assert got == expected
    assert info.value.lines()[0] == "bad.asm:{}:{}: error: {}".format(*expected[0])


def test_operands_resolve_against_the_registry():
    p = assemble("""
        .n 16
        .registers 4
        start:
            set -1 r3
            jump r1, start
            goto end | write r2 r0
            call r2 r1
        end:
    """, sizes={"width": 2})
    assert p.L == 4 and p.sizes == Sizes(16, 4, None, 2)
    assert p.lines[0] == (Op("set", (15, 3)),)
    assert p.lines[1] == (Op("jump", (1, Target(line=0))),)
    assert p.lines[2] == (Op("goto", (Target(line=4),)), Op("write", (2, 0)))
    assert p.lines[3] == (Op("call", (Target(register=2), 1)),)
    assert p.labels == {"start": 0, "end": 4}


def test_labels_name_the_next_instruction_line():
    p = assemble("a:\n; comment\nb: c: nop\nd:\n\nhalt\ne:\n")
    assert p.labels == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 2}
    assert assemble("x: nop\nX: halt\n").labels == {"x": 0, "X": 1}  # case-sensitive


def test_labels_may_contain_dots_and_look_like_mnemonics():
    p = assemble("add: nop\nloop.inner_2: goto add\n goto loop.inner_2\n")
    assert p.lines[1][0].args[0] == Target(line=0) and p.lines[2][0].args[0] == Target(line=1)


def test_mnemonics_and_directives_are_case_insensitive():
    p = assemble(".N 8\n.ReGiStErS 2\nSET 9 R1 | NoP\n", sizes={"width": 2})
    assert p.sizes.n == 8 and p.sizes.registers == 2 and p.lines[0][0] == Op("set", (1, 1))


def test_bom_crlf_and_both_comment_styles():
    text = "\ufeff.n 8\r\nset 3 r0 ; semicolon\r\n# hash\r\ninc r0 r0 # hash\r\n"
    p = assemble(text)
    assert p.L == 2 and p.sizes.n == 8
    assert assemble(text.encode("utf-8")) == p


def test_command_line_sizes_override_directives():
    src = ".n 8\n.registers 2\n.memory 4\nnop\n"
    p = assemble(src, sizes={"n": 32, "registers": None, "memory": 16})
    assert (p.sizes.n, p.sizes.registers, p.sizes.m) == (32, 2, 16)
    # a directive out of range is fine when an option replaces it
    assert assemble(".n 1\nnop\n", sizes={"n": 4}).sizes.n == 4
    # the default memory follows the final n
    assert assemble(".n 8\nnop\n", sizes={"n": 64}).sizes.m == 64
    # a full Sizes fixes everything
    assert assemble(src, sizes=Sizes(n=16)).sizes == Sizes(16, 16, None, 1)


def test_bad_overrides_are_usage_errors():
    with pytest.raises(UsageError, match="--memory 200 is larger than n=128"):
        assemble("nop\n", sizes={"memory": 200})
    with pytest.raises(UsageError, match="n must be at least 2"):
        assemble("nop\n", sizes={"n": 1})


def test_memory_override_against_directive_n_is_a_usage_error():
    with pytest.raises(UsageError, match=r"--memory 16 is larger than n=8 \(set by .n on line 1\)"):
        assemble(".n 8\nnop\n", "f.asm", sizes={"memory": 16})


def test_entry_and_immediates():
    p = assemble(".entry go\n.n 10\nnop\ngo: set 25 r0\nset -3 r1\n")
    assert p.entry == 1 and p.entry_label == "go"
    assert p.lines[1][0].args[0] == 5 and p.lines[2][0].args[0] == 7
    assert assemble(".entry end\nnop\nend:\n").entry == 1  # entry L: halts at once


def test_program_of_exactly_n_lines_and_target_L():
    p = assemble(".n 3\ngoto 3\nnop\nnop\n")
    assert p.L == 3 and p.lines[0][0].args[0] == Target(line=3)


def test_assemble_file_names_the_file_as_given(tmp_path):
    f = tmp_path / "prog.asm"
    f.write_bytes(b"\xef\xbb\xbfnop\r\nfoo\r\n")
    with pytest.raises(CompileError) as info:
        assemble_file(f)
    assert info.value.lines() == [f"{f}:2:1: error: unknown instruction 'foo'"]
    with pytest.raises(UsageError, match="no such file"):
        assemble_file(tmp_path / "missing.asm")
    (tmp_path / "latin1.asm").write_bytes(b"nop ; caf\xe9\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        assemble_file(tmp_path / "latin1.asm")
