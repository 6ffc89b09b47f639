"""Six two-input functions: a library a language model learns to call from answers alone.

Every function is a program the model may select; its two integer parameters are parsed from
the request. Values live in 0..127 and arithmetic wraps mod 128, as on the machine.
"""


def difference(a, b):
    """How far apart a and b are.

    >>> difference(3, 10)
    7
    >>> difference(10, 3)
    7
    """
    if a > b:
        return a - b
    return b - a


def larger(a, b):
    """The larger of a and b.

    >>> larger(12, 31)
    31
    """
    if a > b:
        return a
    return b


def smaller(a, b):
    """The smaller of a and b.

    >>> smaller(12, 31)
    12
    """
    if a < b:
        return a
    return b


def weighted(a, b):
    """Three times a, plus b (mod 128).

    >>> weighted(12, 40)
    76
    """
    return 3 * a + b


def remainder(a, b):
    """What is left of a after taking out every whole b (b > 0).

    >>> remainder(17, 5)
    2
    """
    return a % b


def half_sum(a, b):
    """Half of a plus half of b, each rounded down.

    >>> half_sum(9, 7)
    7
    """
    return a // 2 + b // 2
