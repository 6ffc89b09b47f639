def binary_search(xs, target):
    """The index of target in the sorted list xs, or len(xs) when it is absent."""
    lo = 0
    hi = len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < target:
            lo = mid + 1
        elif xs[mid] > target:
            hi = mid
        else:
            return mid
    return len(xs)
