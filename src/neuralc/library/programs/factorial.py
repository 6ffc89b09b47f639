def factorial(k):
    """k! mod n."""
    r = 1
    for i in range(2, k + 1):
        r *= i
    return r
