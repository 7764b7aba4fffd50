# acronym
import re
def acro(s): return "".join(w[0].upper() for w in re.findall(r"[A-Za-z][A-Za-z']*", s))
assert acro("Portable Network Graphics") == "PNG" and acro("Complementary metal-oxide semiconductor") == "CMOS"
