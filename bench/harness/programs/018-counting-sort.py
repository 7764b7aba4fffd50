# counting-sort
def cs(a, k):
    c = [0] * (k + 1)
    for x in a: c[x] += 1
    return [i for i, n in enumerate(c) for _ in range(n)]
assert cs([3, 1, 4, 1, 5, 9, 2, 6], 9) == [1, 1, 2, 3, 4, 5, 6, 9]
