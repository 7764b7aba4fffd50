# kaprekar-routine
def kap(n):
    k = 0
    while n != 6174:
        d = f"{n:04d}"; n = int("".join(sorted(d, reverse=True))) - int("".join(sorted(d))); k += 1
    return k
assert kap(3524) == 3 and kap(6174) == 0
