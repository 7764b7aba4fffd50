# yacht-score
from collections import Counter
def yacht(d, cat):
    c = Counter(d)
    if cat == "yacht": return 50 if len(c) == 1 else 0
    if cat == "full_house": return sum(d) if sorted(c.values()) == [2, 3] else 0
    if cat == "four": return next((k * 4 for k, v in c.items() if v >= 4), 0)
    if cat == "straight": return 30 if sorted(d) in ([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]) else 0
    return sum(x for x in d if x == cat)
assert yacht([4] * 5, "yacht") == 50 and yacht([2, 2, 3, 3, 3], "full_house") == 13 and yacht([3, 3, 3, 3, 5], "four") == 12 and yacht([1, 3, 2, 5, 4], "straight") == 30 and yacht([6, 6, 1, 6, 2], 6) == 18
