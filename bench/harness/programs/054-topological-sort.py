# topological-sort
def topo(g):
    indeg = {u: 0 for u in g}
    for u in g:
        for v in g[u]: indeg[v] += 1
    q = sorted(u for u in g if indeg[u] == 0); out = []
    while q:
        u = q.pop(0); out.append(u)
        for v in g[u]:
            indeg[v] -= 1
            if indeg[v] == 0: q.append(v)
    return out
order = topo({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []})
assert order[0] == "a" and order[-1] == "d"
