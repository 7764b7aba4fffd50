# partitions
def parts(n):
    p = [1] + [0] * n
    for k in range(1, n + 1):
        for i in range(k, n + 1): p[i] += p[i - k]
    return p[n]
assert parts(5) == 7 and parts(100) == 190569292
