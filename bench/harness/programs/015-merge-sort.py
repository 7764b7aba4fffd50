# merge-sort
def ms(a):
    if len(a) <= 1: return a
    m = len(a) // 2; l, r = ms(a[:m]), ms(a[m:]); out = []
    while l and r: out.append((l if l[0] <= r[0] else r).pop(0))
    return out + l + r
import random
random.seed(1); x = [random.randint(0, 1000) for _ in range(500)]
assert ms(x) == sorted(x)
