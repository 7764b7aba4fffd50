# newton-sqrt
def sq(x):
    g = x / 2 or 1.0
    for _ in range(50): g = (g + x / g) / 2
    return g
assert abs(sq(2) - 2 ** 0.5) < 1e-12 and abs(sq(1e6) - 1000) < 1e-9
