# reverse-bits
def rb(n, w=8): return int(format(n, f"0{w}b")[::-1], 2)
assert rb(1) == 128 and rb(0b10110000) == 0b00001101
