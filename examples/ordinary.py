"""Python as people write it: defaults, tuples, lists that grow, comprehensions, errors.

Check the whole file against its own examples, on either backend:

    neuralc doctest examples/ordinary.py --signed --n 256
    neuralc doctest examples/ordinary.py --signed --n 256 --backend machine
"""


def min_max(xs: list[int]) -> tuple[int, int]:
    """The smallest and the largest value, in one pass.

    >>> min_max([3, -1, 4, 1, -5])
    (-5, 4)
    """
    if not xs:
        raise ValueError("min_max() of an empty list")
    lo = hi = xs[0]
    for x in xs[1:]:
        lo, hi = min(lo, x), max(hi, x)
    return lo, hi


def running_total(xs: list[int], start: int = 0) -> list[int]:
    """Prefix sums.

    >>> running_total([1, 2, 3, 4])
    [1, 3, 6, 10]
    >>> running_total([5, -2], start=10)
    [15, 13]
    """
    out = []
    total = start
    for x in xs:
        total += x
        out.append(total)
    return out


def primes_below(n: int = 20) -> list[int]:
    """The primes below n.

    >>> primes_below()
    [2, 3, 5, 7, 11, 13, 17, 19]
    """
    return [p for p in range(2, n) if all(p % d for d in range(2, p))]


def last(xs: list[int]) -> int:
    """The last element (negative indices count from the end with --signed).

    >>> last([4, -2, 7])
    7
    """
    return xs[-1]
