; The Fibonacci loop in parallel lines: one iteration (a, b) -> (b, a + b) every 2 steps.
; in: a r1, b r2, depth r4 (>= 1), r3 = 1 (a constant); out: r2 = b after depth steps.
; Every slot of a line reads the registers at the start of the step, so `add r1 r2 r2 |
; copy r2 r1` is the pair update, and the flag tests the counter before its decrement
; (r4 != 1, i.e. depth - 1 != 0). A run of depth d takes 2 d + 1 steps.
.width 4
fib_loop:
    add r1 r2 r2 | copy r2 r1 | dec r4 r4 | ne r4 r3 r5
    jump r5 fib_loop
    halt
