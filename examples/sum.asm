; Sum 1 + 2 + ... + r1 into r2.
    zero r2
loop:
    add  r2 r1 r2        ; r2 <- r2 + r1
    dec  r1 r1           ; r1 <- r1 - 1
    ne   r1 r0 r3        ; r3 <- (r1 != 0)      (r0 holds 0)
    jump r3 loop         ; again while r1 != 0
    halt
