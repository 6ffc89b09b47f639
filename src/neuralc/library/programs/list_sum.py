def list_sum(xs):
    """The sum of a list mod n.

    >>> list_sum([1, 2, 3, 4])
    10
    >>> list_sum([])
    0
    """
    s = 0
    for x in xs:
        s += x
    return s
