# pythagorean-triplet
def trip(n): return [(a, b, n - a - b) for a in range(1, n // 3) for b in range(a + 1, n // 2) if a * a + b * b == (n - a - b) ** 2]
assert trip(1000) == [(200, 375, 425)]
