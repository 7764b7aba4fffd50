# stock-profit
def profit(p):
    lo, best = float("inf"), 0
    for x in p: lo = min(lo, x); best = max(best, x - lo)
    return best
assert profit([7, 1, 5, 3, 6, 4]) == 5 and profit([7, 6, 4, 3, 1]) == 0
