# poker-hand-rank
from collections import Counter
def rank(hand):
    v = sorted(("--23456789TJQKA".index(c[0]) for c in hand), reverse=True)
    flush = len({c[1] for c in hand}) == 1; straight = len(set(v)) == 5 and v[0] - v[4] == 4
    counts = sorted(Counter(v).values(), reverse=True)
    if straight and flush: return 8
    if counts[0] == 4: return 7
    if counts == [3, 2]: return 6
    if flush: return 5
    if straight: return 4
    if counts[0] == 3: return 3
    if counts[:2] == [2, 2]: return 2
    return 1 if counts[0] == 2 else 0
assert rank(["TH", "JH", "QH", "KH", "AH"]) == 8 and rank(["2S", "2H", "2D", "5C", "5S"]) == 6 and rank(["2S", "3H", "7D", "9C", "KS"]) == 0
