def power(a, k):
    """a ** k mod n by repeated squaring."""
    r = 1
    while k > 0:
        if k % 2 == 1:
            r *= a
        a *= a
        k //= 2
    return r
