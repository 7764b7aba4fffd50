# top-k-frequent
from collections import Counter
def topk(a, k): return [x for x, _ in Counter(a).most_common(k)]
assert topk([1, 1, 1, 2, 2, 3], 2) == [1, 2]
