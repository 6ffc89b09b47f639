def bubble_sort(xs):
    """The list sorted ascending in place by bubble sort (and returned).

    >>> bubble_sort([5, 2, 9, 1, 5])
    [1, 2, 5, 5, 9]
    >>> bubble_sort([])
    []
    """
    for k in range(len(xs), 1, -1):
        swapped = 0
        for i in range(1, k):
            if xs[i - 1] > xs[i]:
                t = xs[i]
                xs[i] = xs[i - 1]
                xs[i - 1] = t
                swapped = 1
        if not swapped:
            break
    return xs
