# majority-element
def maj(a):
    c, n = None, 0
    for x in a:
        if n == 0: c = x
        n += 1 if x == c else -1
    return c
assert maj([2, 2, 1, 1, 1, 2, 2]) == 2
