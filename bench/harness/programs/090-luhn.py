# luhn
def luhn(s):
    s = s.replace(" ", "")
    if len(s) < 2 or not s.isdigit(): return False
    t = 0
    for i, d in enumerate(map(int, reversed(s))):
        if i % 2: d = d * 2 - 9 if d > 4 else d * 2
        t += d
    return t % 10 == 0
assert luhn("4539 3195 0343 6467") and not luhn("8273 1232 7352 0569")
