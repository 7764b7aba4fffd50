# morse-code
M = {"A": ".-", "B": "-...", "C": "-.-.", "D": "-..", "E": ".", "O": "---", "S": "...", "T": "-", "H": "...."}
R = {v: k for k, v in M.items()}
def enc(s): return " ".join(M[c] for c in s)
assert enc("SOS") == "... --- ..." and "".join(R[x] for x in enc("HATS").split()) == "HATS"
