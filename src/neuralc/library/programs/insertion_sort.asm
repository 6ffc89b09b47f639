; Insertion sort in place: the sorting task's program (docs/DESIGN.md §8.1).
; in: the list in memory cells 0 .. len-1, len r1; out: the same cells, sorted ascending.
    set   1 r2           ; i <- 1
    goto  outer_test
outer:
    read  r2 r3          ; key <- M[i]
    copy  r2 r4          ; j <- i
inner:
    not   r4 r6          ; j == 0: the key goes here
    jump  r6 place
    dec   r4 r5          ; r5 <- j - 1
    read  r5 r6          ; r6 <- M[j-1]
    le    r6 r3 r7       ; M[j-1] <= key: the key goes here
    jump  r7 place
    write r4 r6          ; M[j] <- M[j-1]
    copy  r5 r4          ; j <- j - 1
    goto  inner
place:
    write r4 r3          ; M[j] <- key
    inc   r2 r2          ; i <- i + 1
outer_test:
    lt    r2 r1 r6       ; i < len: next key
    jump  r6 outer
