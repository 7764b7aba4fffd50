# subsets
def subsets(a):
    out = [[]]
    for x in a: out += [s + [x] for s in out]
    return out
assert len(subsets([1, 2, 3, 4])) == 16 and [1, 3] in subsets([1, 2, 3])
