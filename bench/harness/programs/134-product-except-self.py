# product-except-self
def pes(a):
    n = len(a); out = [1] * n; p = 1
    for i in range(n): out[i] = p; p *= a[i]
    p = 1
    for i in range(n - 1, -1, -1): out[i] *= p; p *= a[i]
    return out
assert pes([1, 2, 3, 4]) == [24, 12, 8, 6]
