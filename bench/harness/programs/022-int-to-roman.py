# int-to-roman
def i2r(n):
    vals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for v, s in vals:
        while n >= v: out += s; n -= v
    return out
assert i2r(2024) == "MMXXIV" and i2r(3999) == "MMMCMXCIX"
