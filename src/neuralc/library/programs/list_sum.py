def list_sum(xs):
    """The sum of a list mod n."""
    s = 0
    for x in xs:
        s += x
    return s
