# integer-sqrt
def isqrt(n):
    x = n
    y = (x + 1) // 2
    while y < x: x, y = y, (y + n // y) // 2
    return x
import math
assert all(isqrt(n) == math.isqrt(n) for n in range(1, 5000))
