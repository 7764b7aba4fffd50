# power-mod
def pmod(b, e, m):
    r = 1; b %= m
    while e:
        if e & 1: r = r * b % m
        b = b * b % m; e >>= 1
    return r
assert pmod(3, 200, 13) == pow(3, 200, 13) and pmod(2, 10, 1000) == 24
