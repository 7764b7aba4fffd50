# chinese-remainder
def crt(rs, ms):
    from math import prod
    M = prod(ms); x = 0
    for r, m in zip(rs, ms):
        Mi = M // m; x += r * Mi * pow(Mi, -1, m)
    return x % M
assert crt([2, 3, 2], [3, 5, 7]) == 23
