# nucleotide-count
from collections import Counter
def count(s): c = Counter(s); return {k: c.get(k, 0) for k in "ACGT"}
assert count("GATTACA") == {"A": 3, "C": 1, "G": 1, "T": 2}
