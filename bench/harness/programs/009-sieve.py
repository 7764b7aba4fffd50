# sieve
def sieve(n):
    p = [True] * (n + 1); p[0] = p[1] = False
    for i in range(2, int(n ** 0.5) + 1):
        if p[i]:
            for j in range(i * i, n + 1, i): p[j] = False
    return [i for i, v in enumerate(p) if v]
assert sieve(30) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
assert len(sieve(10000)) == 1229
