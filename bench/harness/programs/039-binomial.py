# binomial
from math import comb
def c(n, k):
    r = 1
    for i in range(k): r = r * (n - i) // (i + 1)
    return r
assert all(c(n, k) == comb(n, k) for n in range(20) for k in range(n + 1))
