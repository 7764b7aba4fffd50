# champernowne
s = "".join(str(i) for i in range(1, 200000))
from math import prod
assert prod(int(s[10 ** k - 1]) for k in range(6)) == 210
