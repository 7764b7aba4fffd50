# look-and-say
from itertools import groupby
def las(s): return "".join(f"{len(list(g))}{k}" for k, g in groupby(s))
x = "1"
for _ in range(5): x = las(x)
assert x == "312211"
