# decode-ways
def dec(s):
    a, b = 1, 0 if s[0] == "0" else 1
    for i in range(1, len(s)):
        c = (b if s[i] != "0" else 0) + (a if 10 <= int(s[i - 1:i + 1]) <= 26 else 0)
        a, b = b, c
    return b
assert dec("226") == 3 and dec("06") == 0 and dec("11106") == 2
