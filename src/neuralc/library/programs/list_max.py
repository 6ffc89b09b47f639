def list_max(xs):
    """The largest element of a list (0 for an empty list).

    >>> list_max([3, 17, 5])
    17
    >>> list_max([])
    0
    """
    best = 0
    for x in xs:
        best = max(best, x)
    return best
