# amicable-numbers
def d(n): return sum(i for i in range(1, n // 2 + 1) if n % i == 0)
assert d(220) == 284 and d(284) == 220
assert sum(a for a in range(2, 3000) if d(a) != a and d(d(a)) == a) == 220 + 284 + 1184 + 1210 + 2620 + 2924
