# vigenere-cipher
def vig(s, key, d=1):
    return "".join(chr((ord(c) - 65 + d * (ord(key[i % len(key)]) - 65)) % 26 + 65) for i, c in enumerate(s))
assert vig("ATTACKATDAWN", "LEMON") == "LXFOPVEFRNHR" and vig("LXFOPVEFRNHR", "LEMON", -1) == "ATTACKATDAWN"
