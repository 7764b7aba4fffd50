# all-your-base-negative
def to_base(n, b):
    if n == 0: return "0"
    d = "0123456789abcdefghijklmnopqrstuvwxyz"; s = "-" if n < 0 else ""; n = abs(n); out = ""
    while n: out = d[n % b] + out; n //= b
    return s + out
assert to_base(-255, 16) == "-ff" and to_base(35, 36) == "z" and int(to_base(123456, 7), 7) == 123456
