# bit-count
def bits(n):
    c = 0
    while n: n &= n - 1; c += 1
    return c
assert all(bits(i) == bin(i).count("1") for i in range(1024))
