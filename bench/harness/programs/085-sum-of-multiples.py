# sum-of-multiples
def som(limit, fs): return sum({m for f in fs if f for m in range(f, limit, f)})
assert som(1000, [3, 5]) == 233168 and som(20, [3, 5]) == 78
