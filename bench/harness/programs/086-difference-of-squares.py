# difference-of-squares
def diff(n): return sum(range(n + 1)) ** 2 - sum(i * i for i in range(n + 1))
assert diff(10) == 2640 and diff(100) == 25164150
