# scrabble-score
S = {**dict.fromkeys("AEIOULNRST", 1), **dict.fromkeys("DG", 2), **dict.fromkeys("BCMP", 3), **dict.fromkeys("FHVWY", 4), "K": 5, **dict.fromkeys("JX", 8), **dict.fromkeys("QZ", 10)}
def score(w): return sum(S[c] for c in w.upper())
assert score("cabbage") == 14 and score("OxyphenButazone") == 41
