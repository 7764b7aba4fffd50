# perfect-numbers
def kind(n):
    s = sum(d for d in range(1, n) if n % d == 0)
    return "perfect" if s == n else "abundant" if s > n else "deficient"
assert kind(28) == "perfect" and kind(12) == "abundant" and kind(7) == "deficient"
