def histogram(xs):
    """How many elements of a list fall in each residue class mod 4: [count of x % 4 == 0, ...]."""
    counts = [0, 0, 0, 0]
    for x in xs:
        counts[x % 4] += 1
    return counts
