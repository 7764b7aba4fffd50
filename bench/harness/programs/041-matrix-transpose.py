# matrix-transpose
def tr(m): return [list(r) for r in zip(*m)]
assert tr([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
