def power(a, k):
    """a ** k mod n by repeated squaring.

    >>> power(3, 4)
    81
    >>> power(5, 0)
    1
    """
    r = 1
    while k > 0:
        if k % 2 == 1:
            r *= a
        a *= a
        k //= 2
    return r
