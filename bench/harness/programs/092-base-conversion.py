# base-conversion
def conv(digits, a, b):
    n = 0
    for d in digits: n = n * a + d
    out = []
    while n: out.append(n % b); n //= b
    return out[::-1] or [0]
assert conv([1, 0, 1, 0, 1, 0], 2, 10) == [4, 2] and conv([4, 2], 10, 16) == [2, 10]
