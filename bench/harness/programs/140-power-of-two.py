# power-of-two
def p2(n): return n > 0 and n & (n - 1) == 0
assert [n for n in range(70) if p2(n)] == [1, 2, 4, 8, 16, 32, 64]
