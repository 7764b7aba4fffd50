# binary-to-decimal
def b2d(s):
    n = 0
    for c in s: n = n * 2 + (c == "1")
    return n
assert b2d("101010") == 42 and all(b2d(bin(i)[2:]) == i for i in range(200))
