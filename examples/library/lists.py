"""A library over lists: the largest, the smallest and the sum of a list of numbers.

Each function takes one list; the model reads the list and its length from the request.
"""


def largest(xs):
    """The largest number of the list.

    >>> largest([4, 17, 9])
    17
    """
    best = 0
    for x in xs:
        best = max(best, x)
    return best


def smallest(xs):
    """The smallest number of the list.

    >>> smallest([4, 17, 9])
    4
    """
    best = xs[0]
    for x in xs:
        best = min(best, x)
    return best


def total(xs):
    """The sum of the list (mod 128).

    >>> total([4, 17, 9])
    30
    """
    s = 0
    for x in xs:
        s += x
    return s
