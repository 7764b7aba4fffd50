# tower-of-hanoi
def hanoi(n, a="A", b="B", c="C", moves=None):
    moves = [] if moves is None else moves
    if n: hanoi(n - 1, a, c, b, moves); moves.append((a, c)); hanoi(n - 1, b, a, c, moves)
    return moves
assert len(hanoi(10)) == 1023 and hanoi(1) == [("A", "C")]
