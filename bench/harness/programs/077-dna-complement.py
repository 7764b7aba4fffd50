# dna-complement
def rna(s): return s.translate(str.maketrans("GCTA", "CGAU"))
assert rna("ACGTGGTCTTAA") == "UGCACCAGAAUU"
