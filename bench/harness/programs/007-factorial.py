# factorial
def fact(n): return 1 if n <= 1 else n * fact(n - 1)
assert fact(10) == 3628800
assert fact(0) == 1
