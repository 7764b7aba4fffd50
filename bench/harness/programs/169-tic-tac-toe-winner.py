# tic-tac-toe-winner
def winner(b):
    lines = [b[i] for i in range(3)] + ["".join(b[i][j] for i in range(3)) for j in range(3)] + ["".join(b[i][i] for i in range(3)), "".join(b[i][2 - i] for i in range(3))]
    for l in lines:
        if l in ("XXX", "OOO"): return l[0]
    return None
assert winner(["XOX", "OXO", "OOX"]) == "X" and winner(["XOX", "XOO", "OXX"]) is None
