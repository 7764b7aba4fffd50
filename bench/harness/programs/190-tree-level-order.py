# tree-level-order
from collections import deque
def levels(t):
    out, q = [], deque([t] if t else [])
    while q:
        lvl = []
        for _ in range(len(q)):
            v, l, r = q.popleft(); lvl.append(v)
            q.extend(x for x in (l, r) if x)
        out.append(lvl)
    return out
t = (3, (9, None, None), (20, (15, None, None), (7, None, None)))
assert levels(t) == [[3], [9, 20], [15, 7]]
