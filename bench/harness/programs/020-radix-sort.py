# radix-sort
def radix(a):
    e = 1
    while max(a) // e:
        b = [[] for _ in range(10)]
        for x in a: b[(x // e) % 10].append(x)
        a = [x for y in b for x in y]; e *= 10
    return a
assert radix([170, 45, 75, 90, 802, 24, 2, 66]) == [2, 24, 45, 66, 75, 90, 170, 802]
