# lis
import bisect
def lis(a):
    t = []
    for x in a:
        i = bisect.bisect_left(t, x)
        if i == len(t): t.append(x)
        else: t[i] = x
    return len(t)
assert lis([10, 9, 2, 5, 3, 7, 101, 18]) == 4
