# digit-sum
def dsum(n): return sum(map(int, str(abs(n))))
def droot(n): return n if n < 10 else droot(dsum(n))
assert dsum(98765) == 35 and droot(98765) == 8
