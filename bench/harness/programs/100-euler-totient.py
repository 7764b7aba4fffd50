# euler-totient
def phi(n):
    r, p = n, 2
    while p * p <= n:
        if n % p == 0:
            while n % p == 0: n //= p
            r -= r // p
        p += 1
    return r - r // n if n > 1 else r
assert [phi(i) for i in range(1, 11)] == [1, 1, 2, 2, 4, 2, 6, 4, 6, 4]
