def fib(k):
    """The k-th Fibonacci number mod n, recursively (fib(0) = 0, fib(1) = 1).

    >>> fib(1)
    1
    >>> fib(10)
    55
    """
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)
