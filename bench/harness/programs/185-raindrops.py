# raindrops
def rain(n): return "".join(s for d, s in ((3, "Pling"), (5, "Plang"), (7, "Plong")) if n % d == 0) or str(n)
assert rain(105) == "PlingPlangPlong" and rain(34) == "34" and rain(21) == "PlingPlong"
