def list_max(xs):
    """The largest element of a list (0 for an empty list)."""
    best = 0
    for x in xs:
        best = max(best, x)
    return best
