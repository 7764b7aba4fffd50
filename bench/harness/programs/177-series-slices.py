# series-slices
def slices(s, n): return [s[i:i + n] for i in range(len(s) - n + 1)]
assert slices("49142", 3) == ["491", "914", "142"]
