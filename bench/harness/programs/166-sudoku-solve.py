# sudoku-solve
def solve(g):
    for i in range(81):
        if g[i] == 0:
            r, c = divmod(i, 9)
            used = {g[r * 9 + k] for k in range(9)} | {g[k * 9 + c] for k in range(9)} | {g[(r // 3 * 3 + a) * 9 + c // 3 * 3 + b] for a in range(3) for b in range(3)}
            for v in range(1, 10):
                if v not in used:
                    g[i] = v
                    if solve(g): return True
            g[i] = 0
            return False
    return True
p = [int(c) for c in "530070000600195000098000060800060003400803001700020006060000280000419005000080079"]
assert solve(p) and p[:9] == [5, 3, 4, 6, 7, 8, 9, 1, 2]
