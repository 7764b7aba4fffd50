# permutations
def perms(a):
    if len(a) <= 1: return [a]
    return [[a[i]] + p for i in range(len(a)) for p in perms(a[:i] + a[i + 1:])]
assert len(perms([1, 2, 3, 4])) == 24 and [3, 1, 2] in perms([1, 2, 3])
