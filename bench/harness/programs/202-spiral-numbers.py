# spiral-numbers
def diag(n):
    s, k, step = 1, 1, 2
    while step < n:
        for _ in range(4): k += step; s += k
        step += 2
    return s
assert diag(5) == 101 and diag(1001) == 669171001
