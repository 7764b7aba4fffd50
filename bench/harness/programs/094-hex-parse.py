# hex-parse
def hexv(s): return sum(int(c, 16) * 16 ** i for i, c in enumerate(reversed(s.lower())))
assert hexv("ff") == 255 and hexv("DeadBeef") == 0xDEADBEEF
