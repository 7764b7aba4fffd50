# prime-factors
def factors(n):
    out, d = [], 2
    while d * d <= n:
        while n % d == 0: out.append(d); n //= d
        d += 1
    if n > 1: out.append(n)
    return out
assert factors(360) == [2, 2, 2, 3, 3, 5]
assert factors(97) == [97]
