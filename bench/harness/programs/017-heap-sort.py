# heap-sort
import heapq
def hs(a):
    h = list(a); heapq.heapify(h)
    return [heapq.heappop(h) for _ in range(len(h))]
assert hs([9, 4, 7, 1, 8]) == [1, 4, 7, 8, 9]
