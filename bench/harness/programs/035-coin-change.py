# coin-change
def coins(cs, amt):
    d = [0] + [float("inf")] * amt
    for a in range(1, amt + 1):
        for c in cs:
            if c <= a: d[a] = min(d[a], d[a - c] + 1)
    return d[amt] if d[amt] != float("inf") else -1
assert coins([1, 2, 5], 11) == 3 and coins([2], 3) == -1
