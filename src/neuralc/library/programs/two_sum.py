def two_sum(xs, target):
    """The first pair [i, j], i < j, with xs[i] + xs[j] == target; [0, 0] if none."""
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] + xs[j] == target:
                return [i, j]
    return [0, 0]
