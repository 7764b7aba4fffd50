# sudoku-validate
def valid(b):
    rows = [set() for _ in range(9)]; cols = [set() for _ in range(9)]; box = [set() for _ in range(9)]
    for i in range(9):
        for j in range(9):
            v = b[i][j]
            if v == ".": continue
            k = i // 3 * 3 + j // 3
            if v in rows[i] or v in cols[j] or v in box[k]: return False
            rows[i].add(v); cols[j].add(v); box[k].add(v)
    return True
b = ["53..7....", "6..195...", ".98....6.", "8...6...3", "4..8.3..1", "7...2...6", ".6....28.", "...419..5", "....8..79"]
assert valid(b) and not valid(["55" + b[0][2:]] + b[1:])
