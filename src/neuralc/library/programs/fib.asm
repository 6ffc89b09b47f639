; The paper's Fibonacci loop (its listing L1): 8 steps per iteration, with a depth counter
; instead of the step budget. in: a r1, b r2, depth r4; out: r2 = b after depth steps
; (a, b) -> (b, a + b). As in the paper, the terms are also written to memory from cell
; r3 (= 0) on. r0 stays 0 (the flag compares with it). A run of depth d takes 8 d + 3 steps.
    goto test
fib_loop:
    write r3 r2          ; M[r3] <- r2        (save b)
    add   r1 r2 r2       ; r2 <- r1 + r2      (b' = a + b)
    read  r3 r1          ; r1 <- M[r3]        (a' = old b)
    write r3 r2          ; M[r3] <- r2        (store the new term)
    inc   r3 r3          ; r3 <- r3 + 1       (advance the pointer)
    dec   r4 r4          ; one step fewer to go
test:
    ne    r4 r0 r5       ; r5 <- depth != 0
    jump  r5 fib_loop
