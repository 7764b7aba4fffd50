# game-of-life
def step(live):
    from collections import Counter
    n = Counter((x + dx, y + dy) for x, y in live for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)
    return {c for c, k in n.items() if k == 3 or (k == 2 and c in live)}
blinker = {(0, 1), (1, 1), (2, 1)}
assert step(step(blinker)) == blinker and step(blinker) == {(1, 0), (1, 1), (1, 2)}
