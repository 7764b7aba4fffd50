# saddle-points
def saddle(m):
    return [(i, j) for i, r in enumerate(m) for j, v in enumerate(r) if v == max(r) and v == min(x[j] for x in m)]
assert saddle([[9, 8, 7], [5, 3, 2], [6, 6, 7]]) == [(1, 0)]
