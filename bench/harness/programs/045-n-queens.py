# n-queens
def queens(n):
    cnt = 0
    def go(r, cols, d1, d2):
        nonlocal cnt
        if r == n: cnt += 1; return
        for c in range(n):
            if c not in cols and r - c not in d1 and r + c not in d2:
                go(r + 1, cols | {c}, d1 | {r - c}, d2 | {r + c})
    go(0, set(), set(), set())
    return cnt
assert queens(6) == 4 and queens(8) == 92
