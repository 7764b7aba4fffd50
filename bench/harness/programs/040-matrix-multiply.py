# matrix-multiply
def mm(a, b): return [[sum(x * y for x, y in zip(r, col)) for col in zip(*b)] for r in a]
assert mm([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]
