# move-zeroes
def mz(a):
    nz = [x for x in a if x]
    return nz + [0] * (len(a) - len(nz))
assert mz([0, 1, 0, 3, 12]) == [1, 3, 12, 0, 0]
