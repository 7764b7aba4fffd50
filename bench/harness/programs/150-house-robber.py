# house-robber
def rob(a):
    p, q = 0, 0
    for x in a: p, q = q, max(q, p + x)
    return q
assert rob([2, 7, 9, 3, 1]) == 12 and rob([1, 2, 3, 1]) == 4
