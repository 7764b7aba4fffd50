# union-find
class DSU:
    def __init__(s, n): s.p = list(range(n))
    def find(s, x):
        while s.p[x] != x: s.p[x] = s.p[s.p[x]]; x = s.p[x]
        return x
    def union(s, a, b): s.p[s.find(a)] = s.find(b)
d = DSU(10)
for a, b in [(0, 1), (2, 3), (1, 3), (5, 6)]: d.union(a, b)
assert d.find(0) == d.find(2) and d.find(5) != d.find(0)
assert len({d.find(i) for i in range(10)}) == 6
