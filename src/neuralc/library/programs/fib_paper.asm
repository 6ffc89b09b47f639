; The paper's Fibonacci listing (docs/DESIGN.md §11.2) verbatim, in our assembly syntax.
; in: a r1, b r2, r4 = 1 (the loop flag); out: r2. It runs until the step budget ends:
; after 1 + 6 * depth steps r2 holds b' after depth steps (a, b') -> (b', a + b'), b' = b + 1.
    inc   r2 r2          ; r2 <- r2 + 1
fib_loop:
    write r3 r2          ; M[r3] <- r2        (save b)
    add   r1 r2 r2       ; r2 <- r1 + r2      (b' = a + b)
    read  r3 r1          ; r1 <- M[r3]        (a' = old b)
    write r3 r2          ; M[r3] <- r2        (store the new term)
    inc   r3 r3          ; r3 <- r3 + 1       (advance the pointer)
    jump  r4 fib_loop    ; if r4 == 1 goto fib_loop
