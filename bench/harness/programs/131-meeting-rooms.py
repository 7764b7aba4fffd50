# meeting-rooms
import heapq
def rooms(iv):
    h = []
    for s, e in sorted(iv):
        if h and h[0] <= s: heapq.heapreplace(h, e)
        else: heapq.heappush(h, e)
    return len(h)
assert rooms([[0, 30], [5, 10], [15, 20]]) == 2 and rooms([[7, 10], [2, 4]]) == 1
