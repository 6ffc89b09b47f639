def prefix_sums(xs):
    """The running sums of a list in place (xs[i] becomes xs[0] + ... + xs[i], mod n)."""
    s = 0
    for i in range(len(xs)):
        s += xs[i]
        xs[i] = s
    return xs
