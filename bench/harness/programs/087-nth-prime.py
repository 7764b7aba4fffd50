# nth-prime
def nth(n):
    ps = []; k = 2
    while len(ps) < n:
        if all(k % p for p in ps if p * p <= k): ps.append(k)
        k += 1
    return ps[-1]
assert nth(1) == 2 and nth(1000) == 7919
