# triangle-kind
def kind(a, b, c):
    a, b, c = sorted((a, b, c))
    if a <= 0 or a + b <= c: return "invalid"
    return "equilateral" if a == c else "isosceles" if a == b or b == c else "scalene"
assert kind(2, 2, 2) == "equilateral" and kind(3, 4, 4) == "isosceles" and kind(3, 4, 5) == "scalene" and kind(1, 1, 3) == "invalid"
