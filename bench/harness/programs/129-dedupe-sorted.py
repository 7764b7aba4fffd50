# dedupe-sorted
def dd(a):
    out = []
    for x in a:
        if not out or out[-1] != x: out.append(x)
    return out
assert dd([1, 1, 2, 3, 3, 3, 4]) == [1, 2, 3, 4]
