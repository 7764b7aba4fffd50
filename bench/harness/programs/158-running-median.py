# running-median
import heapq
def runmed(a):
    lo, hi, out = [], [], []
    for x in a:
        heapq.heappush(lo, -x); heapq.heappush(hi, -heapq.heappop(lo))
        if len(hi) > len(lo): heapq.heappush(lo, -heapq.heappop(hi))
        out.append(-lo[0] if len(lo) > len(hi) else (-lo[0] + hi[0]) / 2)
    return out
assert runmed([5, 15, 1, 3]) == [5, 10, 5, 4]
