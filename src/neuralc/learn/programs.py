"""The programs the learning experiments run, as assembly (SPEC §2) and as :class:`Program`.

``fib_loop`` is the Fibonacci loop of PAPER §9 L1 with the paper's register roles (R1 = a,
R2 = b, R3 = the memory pointer, R4 = the jump flag) and one change so that one loop iteration
is exactly the paper's 8 interpreter steps per depth and the run stops on its own: the flag R4
is not a constant 1 but ``R5 != R0`` after a countdown ``R5 ← R5 − 1`` (R5 = depth, R0 = 0).
Each iteration maps (R1, R2) → (R2, R1 + R2) mod n and writes the sequence to consecutive
memory cells, as in L1; the inputs go straight into R1 and R2 (the listing's leading ``inc`` is
skipped, PAPER §9 [rec]). A run of depth d takes 8·d + 1 steps (the last one is ``halt``).

``fib_parallel`` is the same loop, width 2 (two slots per line, SPEC §4): one iteration is the
3-line body of the source; 3·d + 1 steps.

``mod_add`` is the program the ``adapt`` experiment starts from: (a + b) mod c by a compare
and a conditional subtraction.
"""

from __future__ import annotations

from ..lang.asm import assemble
from ..lang.program import Program, Sizes

__all__ = [
    "FIB_LOOP",
    "FIB_PARALLEL",
    "FIB_STEPS_PER_DEPTH",
    "MOD_ADD",
    "fib_loop",
    "fib_parallel",
    "fib_reference",
    "mod_add",
]

FIB_STEPS_PER_DEPTH = 8

FIB_LOOP = """\
; Fibonacci loop (PAPER §9 L1): r1 = a, r2 = b, r3 = memory pointer, r5 = depth, r0 = 0
fib_loop:
    write r3 r2         ; M[r3] <- r2          (save b)
    add   r1 r2 r2      ; r2 <- r1 + r2        (b' = a + b)
    read  r3 r1         ; r1 <- M[r3]          (a' = old b)
    write r3 r2         ; M[r3] <- r2          (store the new term)
    inc   r3 r3         ; r3 <- r3 + 1         (advance the pointer)
    dec   r5 r5         ; r5 <- r5 - 1         (one depth done)
    ne    r5 r0 r4      ; r4 <- (r5 != 0)      (the flag)
    jump  r4 fib_loop   ; if r4 == 1 goto fib_loop
    halt
"""

FIB_PARALLEL = """\
; Fibonacci loop, two slots per line (SPEC §4): (r1, r2) <- (r2, r1 + r2) in one line
.width 2
fib_loop:
    add r1 r2 r2 | copy r2 r1      ; both slots read the start-of-step registers
    dec r5 r5    | ne r5 r6 r4     ; r6 = 1: r4 <- (r5 != 1), i.e. (r5 - 1 != 0)
    jump r4 fib_loop
    halt
"""

MOD_ADD = """\
; (a + b) mod c for a, b < c: r0 = a, r1 = b, r3 = c; result in r2
    add  r0 r1 r2       ; s = a + b
    lt   r2 r3 r4       ; s < c ?
    jump r4 done
    sub  r2 r3 r2       ; s = s - c
done:
    halt
"""


def _asm(text: str, name: str, sizes: Sizes) -> Program:
    over = {"n": sizes.n, "registers": sizes.registers, "memory": sizes.memory}
    return assemble(text, name, {k: v for k, v in over.items() if v is not None})


def fib_loop(n: int = 16, registers: int = 8, memory: int | None = None) -> Program:
    return _asm(FIB_LOOP, "fib_loop.asm", Sizes(n=n, registers=registers, memory=memory))


def fib_parallel(n: int = 16, registers: int = 8, memory: int | None = None) -> Program:
    return _asm(FIB_PARALLEL, "fib_parallel.asm", Sizes(n=n, registers=registers, memory=memory))


def mod_add(n: int = 16, registers: int = 5) -> Program:
    return _asm(MOD_ADD, "mod_add.asm", Sizes(n=n, registers=registers, memory=1))


def fib_reference(a: int, b: int, depth: int, n: int) -> int:
    """R2 after ``depth`` iterations of (a, b) → (b, a + b) mod n."""
    for _ in range(depth):
        a, b = b, (a + b) % n
    return b
