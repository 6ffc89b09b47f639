def reverse(xs):
    """The list reversed in place (and returned).

    >>> reverse([1, 2, 3])
    [3, 2, 1]
    >>> reverse([])
    []
    """
    i = 0
    j = len(xs) - 1
    while i < j < len(xs):
        t = xs[i]
        xs[i] = xs[j]
        xs[j] = t
        i += 1
        j -= 1
    return xs
