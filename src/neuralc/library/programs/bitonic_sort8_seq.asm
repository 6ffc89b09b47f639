; The bitonic sorting network for 8 values, one instruction per line: the input of the
; parallelizing compiler (compare bitonic_sort8, the same network written in parallel lines).
; in: memory cells 0 .. 7; out: the same cells, sorted ascending. r0..r7 hold the values;
; r8..r15 the addresses, then the temporaries of a stage's four compare-exchanges.
    zero r8
    read r8 r0
    set 1 r9
    read r9 r1
    set 2 r10
    read r10 r2
    set 3 r11
    read r11 r3
    set 4 r12
    read r12 r4
    set 5 r13
    read r13 r5
    set 6 r14
    read r14 r6
    set 7 r15
    read r15 r7
; stage 1
    min r0 r1 r8
    max r0 r1 r1
    copy r8 r0
    max r2 r3 r9
    min r2 r3 r3
    copy r9 r2
    min r4 r5 r10
    max r4 r5 r5
    copy r10 r4
    max r6 r7 r11
    min r6 r7 r7
    copy r11 r6
; stage 2
    min r0 r2 r8
    max r0 r2 r2
    copy r8 r0
    min r1 r3 r9
    max r1 r3 r3
    copy r9 r1
    max r4 r6 r10
    min r4 r6 r6
    copy r10 r4
    max r5 r7 r11
    min r5 r7 r7
    copy r11 r5
; stage 3
    min r0 r1 r8
    max r0 r1 r1
    copy r8 r0
    min r2 r3 r9
    max r2 r3 r3
    copy r9 r2
    max r4 r5 r10
    min r4 r5 r5
    copy r10 r4
    max r6 r7 r11
    min r6 r7 r7
    copy r11 r6
; stage 4
    min r0 r4 r8
    max r0 r4 r4
    copy r8 r0
    min r1 r5 r9
    max r1 r5 r5
    copy r9 r1
    min r2 r6 r10
    max r2 r6 r6
    copy r10 r2
    min r3 r7 r11
    max r3 r7 r7
    copy r11 r3
; stage 5
    min r0 r2 r8
    max r0 r2 r2
    copy r8 r0
    min r1 r3 r9
    max r1 r3 r3
    copy r9 r1
    min r4 r6 r10
    max r4 r6 r6
    copy r10 r4
    min r5 r7 r11
    max r5 r7 r7
    copy r11 r5
; stage 6
    min r0 r1 r8
    max r0 r1 r1
    copy r8 r0
    min r2 r3 r9
    max r2 r3 r3
    copy r9 r2
    min r4 r5 r10
    max r4 r5 r5
    copy r10 r4
    min r6 r7 r11
    max r6 r7 r7
    copy r11 r6
    zero r8
    write r8 r0
    set 1 r9
    write r9 r1
    set 2 r10
    write r10 r2
    set 3 r11
    write r11 r3
    set 4 r12
    write r12 r4
    set 5 r13
    write r13 r5
    set 6 r14
    write r14 r6
    set 7 r15
    write r15 r7
