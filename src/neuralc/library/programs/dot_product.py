def dot_product(xs, ys):
    """The dot product of two lists of the same length, mod n."""
    s = 0
    for i in range(len(xs)):
        s += xs[i] * ys[i]
    return s
