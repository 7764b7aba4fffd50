# binary-search-tree-validate
def valid(t, lo=float("-inf"), hi=float("inf")):
    if t is None: return True
    v, l, r = t
    return lo < v < hi and valid(l, lo, v) and valid(r, v, hi)
assert valid((5, (3, None, None), (8, (6, None, None), None))) and not valid((5, (3, None, (7, None, None)), None))
