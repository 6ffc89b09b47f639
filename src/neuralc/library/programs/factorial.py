def factorial(k):
    """The factorial k! mod n (iteratively).

    >>> factorial(0)
    1
    >>> factorial(5)
    120
    """
    r = 1
    for i in range(2, k + 1):
        r *= i
    return r
