def fib(k):
    """The k-th Fibonacci number, recursively.

    >>> fib(0)
    0
    >>> fib(7)
    13
    """
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)
