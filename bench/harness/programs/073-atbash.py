# atbash
def atbash(s): return "".join(chr(219 - ord(c)) if c.isalpha() else c for c in s.lower())
assert atbash("test") == "gvhg" and atbash(atbash("round trip")) == "round trip"
