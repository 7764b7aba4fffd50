# protein-translation
CODONS = {"AUG": "Met", "UUU": "Phe", "UUC": "Phe", "UCU": "Ser", "UAA": None, "UGG": "Trp"}
def prot(s):
    out = []
    for i in range(0, len(s), 3):
        p = CODONS[s[i:i + 3]]
        if p is None: break
        out.append(p)
    return out
assert prot("AUGUUUUGGUAAUCU") == ["Met", "Phe", "Trp"]
