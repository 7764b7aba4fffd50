# hamming-distance
def ham(a, b): return sum(x != y for x, y in zip(a, b))
assert ham("GAGCCTACTAACGGGAT", "CATCGTAATGACGGCCT") == 7
