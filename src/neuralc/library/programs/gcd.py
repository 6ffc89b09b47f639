def gcd(a, b):
    """Greatest common divisor by Euclid's algorithm (gcd(0, 0) = 0)."""
    while b != 0:
        t = a % b
        a = b
        b = t
    return a
