# rotate-array
def rot(a, k):
    k %= len(a)
    return a[-k:] + a[:-k] if k else a[:]
assert rot([1, 2, 3, 4, 5, 6, 7], 3) == [5, 6, 7, 1, 2, 3, 4] and rot([1, 2], 4) == [1, 2]
