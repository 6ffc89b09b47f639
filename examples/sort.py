def insertion_sort(xs):
    """Sort xs ascending in place and return it.

    >>> insertion_sort([3, 1, 2])
    [1, 2, 3]
    """
    for i in range(1, len(xs)):
        key = xs[i]
        j = i
        while j > 0 and xs[j - 1] > key:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = key
    return xs


def main(xs):
    """
    >>> main([5, 4, 4, 0])
    [0, 4, 4, 5]
    """
    return insertion_sort(xs)
