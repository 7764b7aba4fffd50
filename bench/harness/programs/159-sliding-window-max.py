# sliding-window-max
from collections import deque
def swm(a, k):
    q, out = deque(), []
    for i, x in enumerate(a):
        while q and a[q[-1]] <= x: q.pop()
        q.append(i)
        if q[0] <= i - k: q.popleft()
        if i >= k - 1: out.append(a[q[0]])
    return out
assert swm([1, 3, -1, -3, 5, 3, 6, 7], 3) == [3, 3, 5, 5, 6, 7]
