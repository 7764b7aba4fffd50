# knapsack
def knap(items, cap):
    d = [0] * (cap + 1)
    for w, v in items:
        for c in range(cap, w - 1, -1): d[c] = max(d[c], d[c - w] + v)
    return d[cap]
assert knap([(1, 1), (3, 4), (4, 5), (5, 7)], 7) == 9
