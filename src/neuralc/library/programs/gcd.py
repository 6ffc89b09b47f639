def gcd(a, b):
    """Greatest common divisor by Euclid's algorithm (gcd(0, 0) = 0).

    >>> gcd(12, 18)
    6
    >>> gcd(7, 0)
    7
    >>> gcd(0, 0)
    0
    """
    while b != 0:
        t = a % b
        a = b
        b = t
    return a
