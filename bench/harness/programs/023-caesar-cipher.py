# caesar-cipher
def caesar(s, k): return "".join(chr((ord(c) - 97 + k) % 26 + 97) if c.islower() else c for c in s)
assert caesar("hello, world", 3) == "khoor, zruog"
assert caesar(caesar("abcxyz", 5), 21) == "abcxyz"
