# chunk-list
def chunks(a, n): return [a[i:i + n] for i in range(0, len(a), n)]
assert chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
