# tree-height
def height(t): return 0 if t is None else 1 + max(height(t[1]), height(t[2]))
t = (1, (2, (4, None, None), None), (3, None, None))
assert height(t) == 3 and height(None) == 0
