# digit-factorial
from math import factorial
assert sum(n for n in range(10, 100000) if n == sum(factorial(int(c)) for c in str(n))) == 40730
