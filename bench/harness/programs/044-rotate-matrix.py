# rotate-matrix
def rot(m): return [list(r)[::-1] for r in zip(*m)]
assert rot([[1, 2], [3, 4]]) == [[3, 1], [4, 2]]
