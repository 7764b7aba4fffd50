# robot-simulator
def sim(x, y, d, cmds):
    dirs = "NESW"; mv = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}
    for c in cmds:
        if c == "R": d = dirs[(dirs.index(d) + 1) % 4]
        elif c == "L": d = dirs[(dirs.index(d) - 1) % 4]
        else: x, y = x + mv[d][0], y + mv[d][1]
    return x, y, d
assert sim(7, 3, "N", "RAALAL") == (9, 4, "W")
