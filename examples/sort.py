def insertion_sort(xs):
    for i in range(1, len(xs)):
        key = xs[i]
        j = i
        while j > 0 and xs[j - 1] > key:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = key
    return xs


def main(xs):
    return insertion_sort(xs)
