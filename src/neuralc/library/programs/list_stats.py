def list_stats(xs):
    """[smallest, largest, sum mod n, number of even elements] of a list ([0, 0, 0, 0] if empty)."""
    if len(xs) == 0:
        return [0, 0, 0, 0]
    lo = xs[0]
    hi = xs[0]
    total = 0
    evens = 0
    for x in xs:
        lo = min(lo, x)
        hi = max(hi, x)
        total += x
        evens += x % 2 == 0
    return [lo, hi, total, evens]
