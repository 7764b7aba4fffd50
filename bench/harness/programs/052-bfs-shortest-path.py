# bfs-shortest-path
from collections import deque
def bfs(g, s, t):
    d = {s: 0}; q = deque([s])
    while q:
        u = q.popleft()
        for v in g[u]:
            if v not in d: d[v] = d[u] + 1; q.append(v)
    return d.get(t, -1)
g = {1: [2, 3], 2: [4], 3: [4], 4: [5], 5: [], 6: []}
assert bfs(g, 1, 5) == 3 and bfs(g, 1, 6) == -1
