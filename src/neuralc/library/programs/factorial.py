def factorial(k):
    """The factorial k! mod n (iteratively)."""
    r = 1
    for i in range(2, k + 1):
        r *= i
    return r
