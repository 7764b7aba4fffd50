# coin-ways
def ways(cs, amt):
    d = [1] + [0] * amt
    for c in cs:
        for a in range(c, amt + 1): d[a] += d[a - c]
    return d[amt]
assert ways([1, 2, 5], 5) == 4 and ways([2, 5, 3, 6], 10) == 5
