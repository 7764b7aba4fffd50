# clock-arithmetic
def clock(h, m):
    t = (h * 60 + m) % 1440
    return f"{t // 60:02d}:{t % 60:02d}"
assert clock(10, 37) == "10:37" and clock(25, 160) == "03:40" and clock(-1, -40) == "22:20"
