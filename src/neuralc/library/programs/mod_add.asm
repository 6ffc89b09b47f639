; (a + b) mod c for a, b < c by a compare and a conditional subtraction (the program the
; adapt experiment starts from). in: a r0, b r1, c r3; out: r2.
    add  r0 r1 r2       ; s = a + b
    lt   r2 r3 r4       ; s < c ?
    jump r4 done
    sub  r2 r3 r2       ; s = s - c
done:
    halt
