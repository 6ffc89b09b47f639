"""THE shared table of test programs (one table, many backends; cf. tracr's test_cases.py).

Every :class:`Case` is an assembly source plus inputs. Backends are compared against the exact
reference interpreter (``case.reference()``); expected results are *not* hard-coded, except for
the cases whose ``expect`` was worked out by hand or computed here in plain Python independently
of the interpreter and the registry (see :data:`SPEC_FORMULAS`), which test the interpreter itself.

Use::

    import cases
    for case in cases.CASES:
        program = case.program()
        ref = case.reference()          # RunResult
        ...                             # run the same program on your backend and compare

Sizes are kept small (n ≤ 64, mostly 16) so that the machine can run the whole table with every
ALU; ``case.sizes`` are command-line style overrides on top of the source's directives.
Others may append cases at the end of :data:`CASES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuralc.isa import TABLE_OPS
from neuralc.lang.asm import assemble
from neuralc.lang.interp import RunResult, run_reference
from neuralc.lang.program import Program

__all__ = ["CASES", "PAIRS", "SPEC_FORMULAS", "Case", "case", "fib"]


@dataclass(frozen=True)
class Case:
    """A program and its inputs.

    ``registers``/``memory``: initial values (index → value; the rest start at 0).
    ``sizes``: overrides of the source's directives, e.g. ``{"n": 8}``.
    ``expect``: optional independent expectations, any of ``halted`` (bool), ``steps`` (int),
    ``registers`` ({index: value}) and ``memory`` ({address: value}).
    """

    name: str
    source: str
    registers: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    max_steps: int = 100
    sizes: dict = field(default_factory=dict)
    expect: dict | None = None

    def program(self) -> Program:
        return assemble(self.source, f"{self.name}.asm", self.sizes or None)

    def reference(self) -> RunResult:
        return run_reference(self.program(), self.registers, self.memory, self.max_steps)

    def __repr__(self) -> str:  # short ids in pytest output
        return f"Case({self.name})"


def fib(k: int) -> int:
    """The k-th Fibonacci number, F(0)=0, F(1)=1 (plain Python, for expectations)."""
    a, b = 0, 1
    for _ in range(k):
        a, b = b, a + b
    return a


# The docs/LANGUAGE.md §2 table, written out again by hand (NOT read from the registry) so that expectations
# built from it check the registry and the interpreter independently.
SPEC_FORMULAS = {
    "inc": lambda a, b, n: (a + 1) % n,
    "dec": lambda a, b, n: (a - 1) % n,
    "not": lambda a, b, n: 1 if a == 0 else 0,
    "add": lambda a, b, n: (a + b) % n,
    "sub": lambda a, b, n: (a - b) % n,
    "mul": lambda a, b, n: (a * b) % n,
    "div": lambda a, b, n: 0 if b == 0 else a // b,
    "mod": lambda a, b, n: 0 if b == 0 else a % b,
    "min": lambda a, b, n: min(b, a),
    "max": lambda a, b, n: max(b, a),
    "and": lambda a, b, n: (a & b) % n,
    "or": lambda a, b, n: (a | b) % n,
    "xor": lambda a, b, n: (a ^ b) % n,
    "eq": lambda a, b, n: int(a == b),
    "ne": lambda a, b, n: int(a != b),
    "lt": lambda a, b, n: int(a < b),
    "le": lambda a, b, n: int(a <= b),
    "gt": lambda a, b, n: int(a > b),
    "ge": lambda a, b, n: int(a >= b),
    "copy": lambda a, b, n: a,
}

# Operand pairs for the value ops at n = 16: zeros, both orders, wraparound (15+1, 3-5, 15*15),
# division and modulo by zero, bit patterns, unsigned comparisons of "negative" values (15 > 1).
PAIRS = {16: [(0, 0), (3, 5), (5, 3), (15, 1), (7, 0), (12, 10), (15, 15), (8, 2)],
         5: [(4, 3), (2, 0)],
         8: [(7, 7), (6, 3), (0, 5)]}


def _value_op_case(name: str, n: int) -> Case:
    """``op`` on every pair of PAIRS[n]: pair i is in (r2i, r2i+1), the result goes to r2i."""
    pairs = PAIRS[n]
    unary = name in ("inc", "dec", "not", "copy")
    lines = [f".n {n}", f".registers {2 * len(pairs)}"]
    regs, expect = {}, {}
    for i, (a, b) in enumerate(pairs):
        regs[2 * i], regs[2 * i + 1] = a, b
        src = f"r{2 * i}" if unary else f"r{2 * i} r{2 * i + 1}"
        lines.append(f"    {name} {src} r{2 * i}")
        expect[2 * i] = SPEC_FORMULAS[name](a, b, n)
        expect[2 * i + 1] = b
    return Case(f"op_{name}_n{n}", "\n".join(lines) + "\n", registers=regs,
                expect={"halted": True, "steps": len(pairs), "registers": expect})


_VALUE_OPS = [*TABLE_OPS, "copy"]

CASES: list[Case] = [
    *[_value_op_case(name, 16) for name in _VALUE_OPS],
    *[_value_op_case(name, 5) for name in _VALUE_OPS],  # n not a power of two
    *[_value_op_case(name, 8) for name in ("add", "sub", "mul", "div", "mod", "xor", "lt")],
    Case("zero_set_immediates", """
        .n 16
        .registers 8
            zero r0
            set 0 r1
            set 5 r2
            set -1 r3       ; -1 mod 16 = 15
            set 17 r4       ; 17 mod 16 = 1
            set +3 r5
            set -33 r6      ; -33 mod 16 = 15
        """, registers={0: 9, 1: 9},
        expect={"halted": True, "steps": 7,
                "registers": {0: 0, 1: 0, 2: 5, 3: 15, 4: 1, 5: 3, 6: 15, 7: 0}}),
    Case("nop_halt_counts_as_step", """
        .n 16
            nop
            nop
            halt
            set 9 r0        ; never runs
        """, expect={"halted": True, "steps": 3, "registers": {0: 0}}),
    Case("memory_mod_m", """
        ; m = 4 < n = 16: address a selects cell a mod 4
        .n 16
        .registers 8
        .memory 4
            set 6 r0
            set 9 r1
            write r0 r1     ; M[6 mod 4 = 2] = 9
            set 13 r2
            set 3 r3
            write r2 r3     ; M[13 mod 4 = 1] = 3
            read r0 r4      ; r4 = M[2] = 9
            set 5 r5
            read r5 r6      ; r6 = M[5 mod 4 = 1] = 3
            read r3 r7      ; r7 = M[3] (initial 7)
        """, memory={3: 7},
        expect={"halted": True, "steps": 10, "memory": {0: 0, 1: 3, 2: 9, 3: 7},
                "registers": {4: 9, 6: 3, 7: 7}}),
    Case("jump_only_on_one", """
        .n 16
        .registers 8
            jump r0 a       ; r0 = 2: no jump
            set 1 r4
        a:  jump r1 b       ; r1 = 0: no jump
            set 1 r5
        b:  jump r2 c       ; r2 = 1: jump
            set 1 r6        ; skipped
        c:  jump r3 3       ; r3 = 15 ("-1"): no jump
            set 1 r7
        """, registers={0: 2, 1: 0, 2: 1, 3: 15},
        expect={"halted": True, "steps": 7, "registers": {4: 1, 5: 1, 6: 0, 7: 1}}),
    Case("goto_label_number_and_end", """
        .n 16
        .registers 4
            goto 2
            set 1 r0        ; skipped
            goto skip
            set 1 r1        ; skipped
        skip:
            set 1 r2
            goto end
            set 1 r3        ; skipped
        end:
        """, expect={"halted": True, "steps": 4, "registers": {0: 0, 1: 0, 2: 1, 3: 0}}),
    Case("goto_line_L_halts", """
        .n 16
        .registers 2
            set 3 r0
            goto 3          ; L = 3: halt
            set 7 r1
        """, expect={"halted": True, "steps": 2, "registers": {0: 3, 1: 0}}),
    Case("indirect_targets", """
        .n 16
        .registers 4
            set 4 r0
            goto r0         ; line 4
            set 1 r2        ; skipped
            halt
            set 1 r3
            set 1 r1
            jump r1 r0      ; r1 = 1: back to line r0 = 4, forever (ends by the budget)
        """, max_steps=12),
    Case("indirect_target_past_end_halts", """
        .n 16
        .registers 4
            set 12 r0       ; 12 >= L = 4
            set 1 r1
            jump r1 r0      ; halts
            set 5 r2
        """, expect={"halted": True, "steps": 3, "registers": {2: 0}}),
    Case("ret_past_end_halts", """
        .n 16
        .registers 2
            set 15 r0
            ret r0
            set 1 r1
        """, expect={"halted": True, "steps": 2, "registers": {1: 0}}),
    Case("call_ret_store", """
        .n 32
        .registers 8
            set 3 r0
            call double r7  ; r7 = 2
            call double r7  ; r7 = 3
            store r6        ; r6 = 3
            halt
        double:
            add r0 r0 r0
            ret r7
        """, expect={"halted": True, "steps": 9, "registers": {0: 12, 6: 3, 7: 3}}),
    Case("call_reads_before_write", """
        .n 16
        .registers 4
            set 4 r3
            call r3 r3      ; jumps to the OLD r3 = 4, r3 becomes 2
            set 9 r0        ; line 2: skipped
            halt
            store r1        ; line 4
        """, expect={"halted": True, "steps": 3, "registers": {0: 0, 1: 4, 3: 2}}),
    Case("call_return_wraps_mod_n", """
        ; n = 4 lines = L: `call` on the last line stores (3 + 1) mod 4 = 0
        .n 4
        .registers 2
            goto 3
            halt
            halt
            call 1 r1
        """, registers={1: 3},
        expect={"halted": True, "steps": 3, "registers": {1: 0}}),
    Case("entry_label", """
        .n 16
        .registers 4
        .entry start
            set 7 r0        ; skipped: the run starts at `start`
        start:
            set 2 r1
            inc r1 r1
        """, expect={"halted": True, "steps": 2, "registers": {0: 0, 1: 3}}),
    Case("entry_at_end_halts_at_once", """
        .n 16
        .registers 2
        .entry done
            set 1 r0
        done:
        """, expect={"halted": True, "steps": 0, "registers": {0: 0}}),
    Case("step_budget_not_halted", """
        .n 16
        .registers 2
        loop:
            inc r0 r0
            goto loop
        """, max_steps=9,
        expect={"halted": False, "steps": 9, "registers": {0: 5}}),
    Case("budget_last_step_halts", """
        .n 16
        .registers 2
            inc r0 r0
            inc r0 r0
            halt
        """, max_steps=3, expect={"halted": True, "steps": 3, "registers": {0: 2}}),
    Case("budget_one_short", """
        .n 16
        .registers 2
            inc r0 r0
            inc r0 r0
            inc r0 r0
        """, max_steps=2, expect={"halted": False, "steps": 2, "registers": {0: 2}}),
    Case("zero_budget", """
        .n 16
        .registers 2
            inc r0 r0
        """, max_steps=0, expect={"halted": False, "steps": 0, "registers": {0: 0}}),
    Case("width2_swap_reads_before_writes", """
        .n 16
        .registers 4
        .width 2
            set 3 r0 | set 5 r1
            copy r0 r1 | copy r1 r0       ; swap: both read the old values
            add r0 r1 r2 | inc r2 r3      ; r3 = old r2 + 1 = 1
        """, expect={"halted": True, "steps": 3, "registers": {0: 5, 1: 3, 2: 8, 3: 1}}),
    Case("width2_later_slot_wins", """
        .n 16
        .registers 4
        .width 2
            set 1 r0 | set 2 r0
            set 4 r1 | set 9 r2
            write r1 r1 | write r1 r2     ; M[4]: the later slot (9) wins
        """, expect={"halted": True, "steps": 3, "registers": {0: 2}, "memory": {4: 9}}),
    Case("width2_memory_read_before_write", """
        .n 16
        .registers 4
        .width 2
            read r0 r1 | write r0 r2      ; r1 gets the OLD M[0]
            read r0 r3
        """, registers={2: 6}, memory={0: 11},
        expect={"halted": True, "steps": 2, "registers": {1: 11, 3: 6}, "memory": {0: 6}}),
    Case("width3_halt_line_still_writes", """
        .n 16
        .registers 4
        .width 3
            inc r0 r0 | halt | set 7 r1
            set 9 r2
        """, expect={"halted": True, "steps": 1, "registers": {0: 1, 1: 7, 2: 0}}),
    Case("width3_jump_reads_old_flag", """
        .n 16
        .registers 4
        .width 3
            set 1 r0
        top:
            jump r0 out | set 0 r0 | inc r1 r1   ; jumps on the OLD r0 = 1
            set 5 r2
        out:
            call sub r3 | inc r3 r3 | store r2   ; r3: the later slot (inc) beats call's write
            halt
        sub:
            ret r3
        """, max_steps=20),
    Case("width2_call_with_neighbours", """
        .n 16
        .registers 4
        .width 2
            set 5 r3
            inc r3 r1 | call f r3         ; r1 = old r3 + 1 = 6; r3 = 2
            halt
        f:  copy r3 r2 | ret r3           ; r2 = 2, back to line 2
        """, expect={"halted": True, "steps": 4, "registers": {1: 6, 2: 2, 3: 2}}),
    Case("width2_mixed_short_lines", """
        .n 16
        .registers 6
        .width 2
            set 2 r0 | set 3 r1
            mul r0 r1 r2
            sub r2 r0 r3 | add r2 r1 r4
            write r0 r3 | goto end
            set 1 r5
        end:
        """, expect={"halted": True, "steps": 4,
                     "registers": {2: 6, 3: 4, 4: 9, 5: 0}, "memory": {2: 4}}),
    Case("fib_listing_L1", """
        ; the paper's loop (docs/DESIGN.md §11.2): R4 is a constant-1 flag, the loop ends by the step budget
        .n 64
        .registers 5
            inc   r2 r2          ; R2 <- R2 + 1
        fib_loop:
            write r3 r2          ; M[R3] <- R2          (save b)
            add   r1 r2 r2       ; R2 <- R1 + R2        (b' = a + b)
            read  r3 r1          ; R1 <- M[R3]          (a' = old b)
            write r3 r2          ; M[R3] <- R2          (store new term)
            inc   r3 r3          ; R3 <- R3 + 1         (advance pointer)
            jump  r4 fib_loop    ; if R4 == 1 goto fib_loop
        """, registers={4: 1}, max_steps=1 + 6 * 10,
        expect={"halted": False, "steps": 61,
                "registers": {1: fib(10) % 64, 2: fib(11) % 64, 3: 10},
                "memory": {i: fib(i + 2) % 64 for i in range(10)}}),
    Case("fib_counted_loop", """
        ; r0 = k; on halt r1 = F(k) mod n
        .n 64
        .registers 8
            set 0 r1
            set 1 r2
        loop:
            eq r0 r6 r7          ; r6 stays 0
            jump r7 done
            add r1 r2 r3
            copy r2 r1
            copy r3 r2
            dec r0 r0
            goto loop
        done:
            halt
        """, registers={0: 12}, max_steps=200,
        expect={"halted": True, "steps": 2 + 7 * 12 + 2 + 1,
                "registers": {1: fib(12) % 64, 0: 0}}),
    Case("insertion_sort_L7", """
        ; docs/DESIGN.md §11.3: M[0..N-1] holds the list, r0 = N
        .n 32
            set 1 r10
            set 1 r1            ; i = 1
        outer:  lt  r1 r0 r6        ; r6 = (i < N)
            eq  r6 r11 r7       ; r7 = !(i < N)
            jump r7 done
            read r1 r3          ; key = M[i]
            copy r1 r2          ; j = i
        inner:  eq  r2 r11 r7       ; j == 0 ?
            jump r7 place
            dec r2 r4           ; r4 = j-1
            read r4 r5          ; r5 = M[j-1]
            lt  r3 r5 r6        ; key < M[j-1] ?
            eq  r6 r11 r7
            jump r7 place
            write r2 r5         ; M[j] = M[j-1]
            copy r4 r2          ; j = j-1
            jump r10 inner
        place:  write r2 r3         ; M[j] = key
            inc r1 r1
            jump r10 outer
        done:   halt
        """, registers={0: 6}, memory=dict(enumerate([9, 3, 31, 0, 3, 17])), max_steps=1000,
        expect={"halted": True, "memory": dict(enumerate(sorted([9, 3, 31, 0, 3, 17])))}),
    Case("gcd_mod_loop", """
        .n 64
        .registers 4
        loop:
            eq r1 r3 r2         ; r3 stays 0: b == 0 ?
            jump r2 done
            mod r0 r1 r2
            copy r1 r0
            copy r2 r1
            goto loop
        done:
        """, registers={0: 42, 1: 30}, max_steps=100,
        expect={"halted": True, "registers": {0: 6, 1: 0}}),
    Case("program_of_n_lines", """
        ; L = n = 8, and a target of L = 8 halts
        .n 8
        .registers 2
            inc r0 r0
            inc r0 r0
            jump r1 8
            inc r0 r0
            inc r0 r0
            inc r0 r0
            inc r0 r0
            inc r0 r0
        """, registers={1: 1},
        expect={"halted": True, "steps": 3, "registers": {0: 2}}),
    Case("wraparound_n5", """
        .n 5
        .registers 3
            set 7 r0        ; 2
            mul r0 r0 r1    ; 4
            inc r1 r1       ; 0
            dec r1 r2       ; 4
            sub r2 r0 r2    ; 2
        """, expect={"halted": True, "steps": 5, "registers": {0: 2, 1: 0, 2: 2}}),
    Case("smallest_machine", """
        .n 2
        .registers 1
        .memory 1
            inc r0 r0
            write r0 r0
        """, expect={"halted": True, "steps": 2, "registers": {0: 1}, "memory": {0: 1}}),
    Case("syntax_variety", """
        # upper-case mnemonics and registers, commas, several labels, label + instruction
        .N 16
        .Registers 4
        a: b:   SET 3, R0
                Add r0,r0 , r1 ; comment
        c:      JUMP r2, a     # r2 = 0: no jump
                Halt
        """, expect={"halted": True, "steps": 4, "registers": {0: 3, 1: 6}}),
    Case("sizes_from_overrides", """
        .n 128
            set 300 r0      ; n = 16 from the overrides: 300 mod 16 = 12
            set 9 r7
        """, sizes={"n": 16, "registers": 8},
        expect={"halted": True, "steps": 2, "registers": {0: 12, 7: 9}}),
    Case("sum_to_k", """
        ; r0 = k; r1 = 1 + 2 + ... + k (mod n)
        .n 64
        .registers 4
        loop:
            jump r3 done        ; r3 = (k == 0), computed below
            add r1 r0 r1
            dec r0 r0
            not r0 r3
            goto loop
        done:
        """, registers={0: 10}, max_steps=100,
        expect={"halted": True, "registers": {1: 55, 0: 0}}),
]



def case(name: str) -> Case:
    """The case called ``name``."""
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)


# -- malformed sources ---------------------------------------------------------------------------
# (name, source, extra command-line options, expected diagnostics as (line, col, message)).
# The assembler must report exactly these, in this order; the CLI prints them as
# FILE:LINE:COL: error: MESSAGE and exits with status 2.

MALFORMED: list[tuple[str, str, list[str], list[tuple[int, int, str]]]] = [
    ("unknown_mnemonic", "nop\n    foo r1 r2\n", [],
     [(2, 5, "unknown instruction 'foo'")]),
    ("too_few_operands", "add r1 r2\n", [],
     [(1, 1, "'add' takes 3 operands (register register register), got 2")]),
    ("too_many_operands", "inc r1 r2 r3\n", [],
     [(1, 11, "'inc' takes 2 operands (register register), got 3")]),
    ("operand_on_nop", "nop r1\n", [],
     [(1, 5, "'nop' takes 0 operands (none), got 1")]),
    ("bad_register", "inc x1 r2\n", [],
     [(1, 5, "expected a register, got 'x1'")]),
    ("register_K", "copy r16 r0\n", [],
     [(1, 6, "register 'r16' out of range (registers are r0..r15)")]),
    ("register_K_from_directive", ".registers 4\ncopy r1 R4\n", [],
     [(2, 9, "register 'R4' out of range (registers are r0..r3)")]),
    ("register_K_from_option", "copy r1 r7\n", ["--registers", "4"],
     [(1, 9, "register 'r7' out of range (registers are r0..r3)")]),
    ("bad_immediate", "set x r1\n", [],
     [(1, 5, "expected an integer, got 'x'")]),
    ("unknown_label", "goto nowhere\n", [],
     [(1, 6, "unknown label 'nowhere'")]),
    ("duplicate_label", "a: nop\nb:\na: halt\n", [],
     [(3, 1, "duplicate label 'a' (first defined on line 1)")]),
    ("label_like_register", "r7: nop\n  R12: nop\n", [],
     [(1, 1, "label 'r7' looks like a register"), (2, 3, "label 'R12' looks like a register")]),
    ("invalid_label_name", "1a: nop\n", [],
     [(1, 1, "invalid label name '1a' (a label matches [A-Za-z_][A-Za-z0-9_.]*)")]),
    ("space_before_colon", "loop : nop\n", [],
     [(1, 6, "space before ':' (a label's colon must follow its name directly)")]),
    ("bad_target", "goto a-b\n", [],
     [(1, 6, "expected a target (label, line or register), got 'a-b'")]),
    ("target_past_L", "goto 3\nnop\n", [],
     [(1, 6, "target line 3 out of range (lines are 0..2, 2 halts)")]),
    ("negative_target", "jump r0 -1\n", [],
     [(1, 9, "target line -1 out of range (lines are 0..1, 1 halts)")]),
    ("register_target_K", ".registers 2\ngoto r2\n", [],
     [(2, 6, "register 'r2' out of range (registers are r0..r1)")]),
    ("two_controls", ".width 2\nhalt | goto 0\n", [],
     [(2, 8, "at most one control instruction (halt, jump, goto, call, ret) may stand on a line")]),
    ("empty_slot_trailing", ".width 2\nadd r1 r2 r3 |\n", [],
     [(2, 14, "empty instruction slot next to '|'")]),
    ("empty_slot_middle", ".width 3\nnop | | nop\n", [],
     [(2, 5, "empty instruction slot next to '|'")]),
    ("empty_slot_leading", ".width 2\n| nop\n", [],
     [(2, 1, "empty instruction slot next to '|'")]),
    ("too_many_slots", "nop | nop\n", [],
     [(1, 7, "line has 2 instructions but the width is 1")]),
    ("too_many_slots_width2", ".width 2\nnop | nop | inc r0 r0\n", [],
     [(2, 13, "line has 3 instructions but the width is 2")]),
    ("double_comma", "add r1,,r2 r3\n", [],
     [(1, 8, "unexpected ',' (operands are separated by a single comma)")]),
    ("leading_comma", "add ,r1 r2 r3\n", [],
     [(1, 5, "unexpected ',' before the first operand")]),
    ("comma_after_mnemonic", "add, r1 r2 r3\n", [],
     [(1, 4, "unexpected ',' before the first operand")]),
    ("trailing_comma", "add r1 r2 r3,\n", [],
     [(1, 13, "unexpected ',' after the last operand")]),
    ("directive_after_instruction", "nop\n.n 8\n", [],
     [(2, 1, "directive '.n' must come before the first instruction")]),
    ("duplicate_directive", ".n 8\n  .N 16\nnop\n", [],
     [(2, 3, "duplicate directive '.n' (first on line 1)")]),
    ("unknown_directive", ".foo 3\nnop\n", [],
     [(1, 1, "unknown directive '.foo' (known: .n, .registers, .memory, .width, .entry)")]),
    ("directive_with_label", "x: .n 8\nnop\n", [],
     [(1, 1, "a directive cannot have a label")]),
    ("directive_not_integer", ".width abc\nnop\n", [],
     [(1, 8, "'.width' needs an integer, got 'abc'")]),
    ("directive_missing_value", ".registers\nnop\n", [],
     [(1, 1, "'.registers' needs an integer")]),
    ("directive_two_values", ".n 8 9\nnop\n", [],
     [(1, 6, "'.n' takes one value")]),
    ("size_n_too_small", ".n 1\nnop\n", [],
     [(1, 1, "n must be at least 2 (got 1)")]),
    ("size_registers_zero", ".registers 0\nnop\n", [],
     [(1, 1, "registers must be at least 1 (got 0)")]),
    ("size_width_zero", "; widths\n.width 0\nnop\n", [],
     [(2, 1, "width must be at least 1 (got 0)")]),
    ("size_memory_over_n", ".memory 300\nnop\n", [],
     [(1, 1, "memory must be between 1 and n=128 (got 300)")]),
    ("size_memory_over_directive_n", ".n 8\n.memory 9\nnop\n", [],
     [(2, 1, "memory must be between 1 and n=8 (got 9)")]),
    ("size_memory_over_option_n", ".memory 64\nnop\n", ["--n", "32"],
     [(1, 1, "memory must be between 1 and n=32 (got 64)")]),
    ("entry_unknown", ".entry nowhere\nnop\n", [],
     [(1, 8, "unknown label 'nowhere'")]),
    ("entry_not_label", ".entry 3\nnop\n", [],
     [(1, 8, "'.entry' needs a label, got '3'")]),
    ("empty_program", "", [],
     [(1, 1, "empty program: no instructions")]),
    ("only_comments_and_labels", "; nothing\n\nend:  # here\n", [],
     [(1, 1, "empty program: no instructions")]),
    ("longer_than_n", ".n 4\nnop\nnop\nnop\nnop\nnop\n", [],
     [(6, 1, "program has 5 lines but n=4 allows at most 4")]),
    ("longer_than_option_n", "nop\nnop\nnop\n", ["--n", "2"],
     [(3, 1, "program has 3 lines but n=2 allows at most 2")]),
    ("crlf_bom_columns", "\ufeffnop\r\n  add r1 r2\r\n", [],
     [(2, 3, "'add' takes 3 operands (register register register), got 2")]),
    ("many_errors_in_order", "foo\nadd r1\n.n 8\nx: x: goto y\nnop | halt | ret r99\n", [],
     [(1, 1, "unknown instruction 'foo'"),
      (2, 1, "'add' takes 3 operands (register register register), got 1"),
      (3, 1, "directive '.n' must come before the first instruction"),
      (4, 4, "duplicate label 'x' (first defined on line 4)"),
      (4, 12, "unknown label 'y'"),
      (5, 7, "line has 3 instructions but the width is 1"),
      (5, 14, "at most one control instruction (halt, jump, goto, call, ret) may stand on a line"),
      (5, 18, "register 'r99' out of range (registers are r0..r15)")]),
]


# -- random valid programs (hypothesis) ------------------------------------------------------------

def programs(max_n: int = 32, max_registers: int = 8, max_width: int = 3, max_lines: int = 12):
    """A hypothesis strategy of ``(program, registers, memory, max_steps)``: random valid programs
    of every instruction (targets by line, by label and by register; width-k lines with at most
    one control op; any entry) with random inputs."""
    from hypothesis import strategies as st

    from neuralc.isa import INSTRUCTIONS
    from neuralc.lang.program import Op, Program, Sizes, Target

    @st.composite
    def build(draw):
        n = draw(st.integers(2, max_n))
        K = draw(st.integers(1, max_registers))
        m = draw(st.one_of(st.none(), st.integers(1, n)))
        width = draw(st.integers(1, max_width))
        L = draw(st.integers(1, min(n, max_lines)))
        reg = st.integers(0, K - 1)

        def operand(kind):
            if kind in "RD":
                return draw(reg)
            if kind == "I":
                return draw(st.integers(0, n - 1))
            if draw(st.booleans()):
                return Target(register=draw(reg))
            return Target(line=draw(st.integers(0, L)))

        lines = []
        for _ in range(L):
            slots, control = [], False
            for _ in range(draw(st.integers(1, width))):
                ins = draw(st.sampled_from(INSTRUCTIONS))
                if ins.is_control and control:
                    ins = INSTRUCTIONS[0]
                control |= ins.is_control
                slots.append(Op(ins.name, tuple(operand(k) for k in ins.operands)))
            lines.append(tuple(slots))
        names = draw(st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,6}", fullmatch=True)
                              .filter(lambda s: not (s[0] in "rR" and s[1:].isdigit())),
                              max_size=3, unique=True))
        labels = {name: draw(st.integers(0, L)) for name in names}
        entry = draw(st.integers(0, L)) if draw(st.booleans()) else 0
        program = Program(lines, Sizes(n, K, m, width), entry=entry, labels=labels)
        registers = draw(st.lists(st.integers(0, n - 1), min_size=K, max_size=K))
        memory = draw(st.lists(st.integers(0, n - 1), min_size=program.sizes.m,
                               max_size=program.sizes.m))
        max_steps = draw(st.integers(0, 40))
        return program, registers, memory, max_steps

    return build()
