# min-path-sum
def mps(g):
    m, n = len(g), len(g[0]); d = [r[:] for r in g]
    for i in range(m):
        for j in range(n):
            if i or j: d[i][j] += min(d[i - 1][j] if i else float("inf"), d[i][j - 1] if j else float("inf"))
    return d[-1][-1]
assert mps([[1, 3, 1], [1, 5, 1], [4, 2, 1]]) == 7
