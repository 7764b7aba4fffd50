# queen-attack
def attack(a, b): return a[0] == b[0] or a[1] == b[1] or abs(a[0] - b[0]) == abs(a[1] - b[1])
assert attack((2, 4), (6, 6)) is False and attack((2, 4), (5, 7)) and attack((0, 0), (0, 7))
