# cycle-detection
def has_cycle(g):
    color = {}
    def dfs(u):
        color[u] = 1
        for v in g.get(u, []):
            if color.get(v) == 1 or (v not in color and dfs(v)): return True
        color[u] = 2
        return False
    return any(u not in color and dfs(u) for u in g)
assert has_cycle({1: [2], 2: [3], 3: [1]}) and not has_cycle({1: [2], 2: [3], 3: []})
