# single-number-xor
from functools import reduce
def single(a): return reduce(lambda x, y: x ^ y, a)
assert single([4, 1, 2, 1, 2]) == 4
