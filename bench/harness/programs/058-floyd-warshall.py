# floyd-warshall
INF = float("inf")
def fw(d):
    n = len(d); d = [r[:] for r in d]
    for k in range(n):
        for i in range(n):
            for j in range(n): d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    return d
r = fw([[0, 3, INF, 7], [8, 0, 2, INF], [5, INF, 0, 1], [2, INF, INF, 0]])
assert r[0][2] == 5 and r[3][1] == 5
