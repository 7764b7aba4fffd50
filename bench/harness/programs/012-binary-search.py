# binary-search
def bs(a, x):
    lo, hi = 0, len(a) - 1
    while lo <= hi:
        m = (lo + hi) // 2
        if a[m] == x: return m
        if a[m] < x: lo = m + 1
        else: hi = m - 1
    return -1
a = list(range(0, 100, 3))
assert bs(a, 27) == 9 and bs(a, 28) == -1
