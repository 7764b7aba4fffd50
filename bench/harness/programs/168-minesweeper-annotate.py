# minesweeper-annotate
def annotate(b):
    h, w = len(b), len(b[0])
    def n(i, j): return sum(b[a][c] == "*" for a in range(max(0, i - 1), min(h, i + 2)) for c in range(max(0, j - 1), min(w, j + 2)))
    return ["".join(b[i][j] if b[i][j] == "*" else (str(n(i, j)) if n(i, j) else " ") for j in range(w)) for i in range(h)]
assert annotate([" * ", "   ", "*  "]) == ["1*1", "221", "*1 "]
