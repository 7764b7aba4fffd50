# quick-sort
def qs(a):
    if len(a) <= 1: return a
    p = a[len(a) // 2]
    return qs([x for x in a if x < p]) + [x for x in a if x == p] + qs([x for x in a if x > p])
import random
random.seed(2); x = [random.randint(-50, 50) for _ in range(300)]
assert qs(x) == sorted(x)
