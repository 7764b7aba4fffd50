# dijkstra
import heapq
def dij(g, s):
    d = {s: 0}; pq = [(0, s)]
    while pq:
        du, u = heapq.heappop(pq)
        if du > d[u]: continue
        for v, w in g.get(u, []):
            if du + w < d.get(v, float("inf")): d[v] = du + w; heapq.heappush(pq, (d[v], v))
    return d
g = {"a": [("b", 7), ("c", 9), ("f", 14)], "b": [("c", 10), ("d", 15)], "c": [("d", 11), ("f", 2)], "d": [("e", 6)], "f": [("e", 9)]}
assert dij(g, "a")["e"] == 20
