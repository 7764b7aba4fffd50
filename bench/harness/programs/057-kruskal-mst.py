# kruskal-mst
def mst(n, edges):
    p = list(range(n))
    def f(x):
        while p[x] != x: x = p[x]
        return x
    total = 0
    for w, a, b in sorted(edges):
        ra, rb = f(a), f(b)
        if ra != rb: p[ra] = rb; total += w
    return total
assert mst(4, [(1, 0, 1), (4, 1, 2), (3, 0, 2), (2, 2, 3), (5, 1, 3)]) == 6
