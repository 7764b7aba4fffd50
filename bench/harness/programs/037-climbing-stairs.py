# climbing-stairs
def climb(n):
    a, b = 1, 1
    for _ in range(n): a, b = b, a + b
    return a
assert climb(5) == 8 and climb(10) == 89
