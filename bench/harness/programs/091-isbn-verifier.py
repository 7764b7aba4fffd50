# isbn-verifier
def isbn(s):
    s = s.replace("-", "")
    if len(s) != 10 or not s[:9].isdigit() or not (s[9].isdigit() or s[9] == "X"): return False
    v = [int(c) for c in s[:9]] + [10 if s[9] == "X" else int(s[9])]
    return sum(x * (10 - i) for i, x in enumerate(v)) % 11 == 0
assert isbn("3-598-21508-8") and isbn("3-598-21507-X") and not isbn("3-598-21508-9")
