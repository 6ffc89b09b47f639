def insertion_sort(xs):
    """The list sorted ascending in place by insertion sort (and returned).

    >>> insertion_sort([4, 1, 3, 1])
    [1, 1, 3, 4]
    >>> xs = [9, 8, 7]
    >>> insertion_sort(xs)
    [7, 8, 9]
    """
    for i in range(1, len(xs)):
        key = xs[i]
        j = i
        while j > 0 and xs[j - 1] > key:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = key
    return xs
