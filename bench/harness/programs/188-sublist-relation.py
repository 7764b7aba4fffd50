# sublist-relation
def rel(a, b):
    def sub(x, y): return any(y[i:i + len(x)] == x for i in range(len(y) - len(x) + 1))
    if a == b: return "equal"
    if sub(a, b): return "sublist"
    if sub(b, a): return "superlist"
    return "unequal"
assert rel([1, 2], [0, 1, 2, 3]) == "sublist" and rel([1, 2, 3], [2]) == "superlist" and rel([1, 3], [1, 2, 3]) == "unequal"
