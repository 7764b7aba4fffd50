# insertion-sort
def ins(a):
    a = list(a)
    for i in range(1, len(a)):
        k, j = a[i], i - 1
        while j >= 0 and a[j] > k: a[j + 1] = a[j]; j -= 1
        a[j + 1] = k
    return a
assert ins([3, -1, 2, 10, 0]) == [-1, 0, 2, 3, 10]
