# huffman-lengths
import heapq
from collections import Counter
def huff(s):
    h = [(n, i, {c: 0}) for i, (c, n) in enumerate(Counter(s).items())]; heapq.heapify(h); k = len(h)
    while len(h) > 1:
        a, _, x = heapq.heappop(h); b, _, y = heapq.heappop(h)
        heapq.heappush(h, (a + b, k, {c: d + 1 for c, d in {**x, **y}.items()})); k += 1
    return h[0][2]
L = huff("abracadabra")
assert L["a"] == 1 and sum(Counter("abracadabra")[c] * d for c, d in L.items()) == 23
