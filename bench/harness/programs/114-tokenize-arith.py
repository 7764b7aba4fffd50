# tokenize-arith
import re
def tok(s): return re.findall(r"\d+\.?\d*|[-+*/()]", s)
assert tok("3 + 4.5*(2 - 1)") == ["3", "+", "4.5", "*", "(", "2", "-", "1", ")"]
