# extended-gcd
def egcd(a, b):
    if b == 0: return a, 1, 0
    g, x, y = egcd(b, a % b)
    return g, y, x - (a // b) * y
g, x, y = egcd(240, 46)
assert g == 2 and 240 * x + 46 * y == 2
def inv(a, m): return egcd(a, m)[1] % m
assert inv(3, 11) == 4
