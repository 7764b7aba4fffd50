# flatten-list
def flatten(a): return [y for x in a for y in (flatten(x) if isinstance(x, list) else [x]) if y is not None]
assert flatten([1, [2, [3, None, [4]], 5], [[6]]]) == [1, 2, 3, 4, 5, 6]
