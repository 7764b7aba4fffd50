# diamond-pattern
def diamond(c):
    n = ord(c) - 65
    rows = [" " * (n - i) + chr(65 + i) + (" " * (2 * i - 1) + chr(65 + i) if i else "") + " " * (n - i) for i in range(n + 1)]
    return rows + rows[-2::-1]
d = diamond("C")
assert d == ["  A  ", " B B ", "C   C", " B B ", "  A  "]
