def quicksort(xs):
    """The list sorted ascending in place by recursive quicksort (and returned).

    >>> quicksort([3, 6, 1, 8, 2, 9, 2])
    [1, 2, 2, 3, 6, 8, 9]
    >>> quicksort([1])
    [1]
    """
    sort(xs, 0, len(xs))
    return xs


def sort(xs, lo, hi):
    """Sort xs[lo:hi] (Lomuto partition around the last element)."""
    if hi - lo < 2:
        return
    p = xs[hi - 1]
    i = lo
    for j in range(lo, hi - 1):
        if xs[j] < p:
            t = xs[i]
            xs[i] = xs[j]
            xs[j] = t
            i += 1
    xs[hi - 1] = xs[i]
    xs[i] = p
    sort(xs, lo, i)
    sort(xs, i + 1, hi)
