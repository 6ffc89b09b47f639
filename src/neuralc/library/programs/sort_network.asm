; Sorting network for lists of up to 12 values in memory with their length: Batcher's
; odd-even merge sort of 16 wires pruned to 12 (42 comparators in 10 parallel lines).
; in: the list in memory cells 0 .. len-1, len r24 (len <= 12); out: the same cells, sorted
; ascending. r0..r11 hold the values, r12..r23 the addresses, r25..r36 the padding.
; Cells at or past len are first set to n-1 (max(x, (i < len) - 1)), which sorts after every
; value of the list, so the first len cells come out sorted whatever the other cells held.
; A comparator whose wires both lie past the list never moves a list value, so one program
; sorts every length up to 12 in the same 16 steps.
.registers 40
.width 12
    set 0 r12 | set 1 r13 | set 2 r14 | set 3 r15 | set 4 r16 | set 5 r17 | set 6 r18 | set 7 r19 | set 8 r20 | set 9 r21 | set 10 r22 | set 11 r23
    read r12 r0 | read r13 r1 | read r14 r2 | read r15 r3 | read r16 r4 | read r17 r5 | read r18 r6 | read r19 r7 | read r20 r8 | read r21 r9 | read r22 r10 | read r23 r11
    lt r12 r24 r25 | lt r13 r24 r26 | lt r14 r24 r27 | lt r15 r24 r28 | lt r16 r24 r29 | lt r17 r24 r30 | lt r18 r24 r31 | lt r19 r24 r32 | lt r20 r24 r33 | lt r21 r24 r34 | lt r22 r24 r35 | lt r23 r24 r36
    dec r25 r25 | dec r26 r26 | dec r27 r27 | dec r28 r28 | dec r29 r29 | dec r30 r30 | dec r31 r31 | dec r32 r32 | dec r33 r33 | dec r34 r34 | dec r35 r35 | dec r36 r36
    max r0 r25 r0 | max r1 r26 r1 | max r2 r27 r2 | max r3 r28 r3 | max r4 r29 r4 | max r5 r30 r5 | max r6 r31 r6 | max r7 r32 r7 | max r8 r33 r8 | max r9 r34 r9 | max r10 r35 r10 | max r11 r36 r11
    min r0 r1 r0 | max r0 r1 r1 | min r2 r3 r2 | max r2 r3 r3 | min r4 r5 r4 | max r4 r5 r5 | min r6 r7 r6 | max r6 r7 r7 | min r8 r9 r8 | max r8 r9 r9 | min r10 r11 r10 | max r10 r11 r11
    min r0 r2 r0 | max r0 r2 r2 | min r1 r3 r1 | max r1 r3 r3 | min r4 r6 r4 | max r4 r6 r6 | min r5 r7 r5 | max r5 r7 r7 | min r8 r10 r8 | max r8 r10 r10 | min r9 r11 r9 | max r9 r11 r11
    min r1 r2 r1 | max r1 r2 r2 | min r5 r6 r5 | max r5 r6 r6 | min r0 r4 r0 | max r0 r4 r4 | min r3 r7 r3 | max r3 r7 r7 | min r9 r10 r9 | max r9 r10 r10
    min r2 r6 r2 | max r2 r6 r6 | min r1 r5 r1 | max r1 r5 r5 | min r9 r10 r9 | max r9 r10 r10 | min r0 r8 r0 | max r0 r8 r8
    min r2 r4 r2 | max r2 r4 r4 | min r3 r5 r3 | max r3 r5 r5
    min r1 r2 r1 | max r1 r2 r2 | min r3 r4 r3 | max r3 r4 r4 | min r5 r6 r5 | max r5 r6 r6
    min r4 r8 r4 | max r4 r8 r8 | min r2 r10 r2 | max r2 r10 r10 | min r1 r9 r1 | max r1 r9 r9 | min r3 r11 r3 | max r3 r11 r11
    min r6 r10 r6 | max r6 r10 r10 | min r2 r4 r2 | max r2 r4 r4 | min r5 r9 r5 | max r5 r9 r9 | min r7 r11 r7 | max r7 r11 r11
    min r6 r8 r6 | max r6 r8 r8 | min r3 r5 r3 | max r3 r5 r5 | min r7 r9 r7 | max r7 r9 r9 | min r1 r2 r1 | max r1 r2 r2
    min r3 r4 r3 | max r3 r4 r4 | min r5 r6 r5 | max r5 r6 r6 | min r7 r8 r7 | max r7 r8 r8 | min r9 r10 r9 | max r9 r10 r10
    write r12 r0 | write r13 r1 | write r14 r2 | write r15 r3 | write r16 r4 | write r17 r5 | write r18 r6 | write r19 r7 | write r20 r8 | write r21 r9 | write r22 r10 | write r23 r11
