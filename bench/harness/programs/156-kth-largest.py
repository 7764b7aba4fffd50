# kth-largest
import heapq
def kth(a, k): return heapq.nlargest(k, a)[-1]
assert kth([3, 2, 1, 5, 6, 4], 2) == 5 and kth([3, 2, 3, 1, 2, 4, 5, 5, 6], 4) == 4
