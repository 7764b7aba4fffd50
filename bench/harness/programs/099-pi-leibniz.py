# pi-leibniz
s = sum((-1) ** k / (2 * k + 1) for k in range(200000)) * 4
import math
assert abs(s - math.pi) < 1e-4
