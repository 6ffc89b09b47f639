; Bitonic sorting network for 8 values, 8 instructions per line (docs/LANGUAGE.md §6).
; in: memory cells 0 .. 7; out: the same cells, sorted ascending. r0..r7 hold the values,
; r8..r15 the addresses. Each stage is one line: every slot reads the values at the start
; of the step, so `min ri rj ri | max ri rj rj` exchanges a pair in one step.
.width 8
    zero r8 | set 1 r9 | set 2 r10 | set 3 r11 | set 4 r12 | set 5 r13 | set 6 r14 | set 7 r15
    read r8 r0 | read r9 r1 | read r10 r2 | read r11 r3 | read r12 r4 | read r13 r5 | read r14 r6 | read r15 r7
    min r0 r1 r0 | max r0 r1 r1 | min r2 r3 r3 | max r2 r3 r2 | min r4 r5 r4 | max r4 r5 r5 | min r6 r7 r7 | max r6 r7 r6   ; stage 1
    min r0 r2 r0 | max r0 r2 r2 | min r1 r3 r1 | max r1 r3 r3 | min r4 r6 r6 | max r4 r6 r4 | min r5 r7 r7 | max r5 r7 r5   ; stage 2
    min r0 r1 r0 | max r0 r1 r1 | min r2 r3 r2 | max r2 r3 r3 | min r4 r5 r5 | max r4 r5 r4 | min r6 r7 r7 | max r6 r7 r6   ; stage 3
    min r0 r4 r0 | max r0 r4 r4 | min r1 r5 r1 | max r1 r5 r5 | min r2 r6 r2 | max r2 r6 r6 | min r3 r7 r3 | max r3 r7 r7   ; stage 4
    min r0 r2 r0 | max r0 r2 r2 | min r1 r3 r1 | max r1 r3 r3 | min r4 r6 r4 | max r4 r6 r6 | min r5 r7 r5 | max r5 r7 r7   ; stage 5
    min r0 r1 r0 | max r0 r1 r1 | min r2 r3 r2 | max r2 r3 r3 | min r4 r5 r4 | max r4 r5 r5 | min r6 r7 r6 | max r6 r7 r7   ; stage 6
    write r8 r0 | write r9 r1 | write r10 r2 | write r11 r3 | write r12 r4 | write r13 r5 | write r14 r6 | write r15 r7
