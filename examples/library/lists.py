"""A library over lists: the largest, the smallest and the sum of a list of numbers.

Each function takes one list; the model reads the list and its length from the request.
"""


def largest(xs):
    """The largest number of the list."""
    best = 0
    for x in xs:
        best = max(best, x)
    return best


def smallest(xs):
    """The smallest number of the list."""
    best = xs[0]
    for x in xs:
        best = min(best, x)
    return best


def total(xs):
    """The sum of the list (mod 128)."""
    s = 0
    for x in xs:
        s += x
    return s
