# group-anagrams
from collections import defaultdict
def ga(ws):
    g = defaultdict(list)
    for w in ws: g["".join(sorted(w))].append(w)
    return sorted(sorted(v) for v in g.values())
assert ga(["eat", "tea", "tan", "ate", "nat", "bat"]) == [["ate", "eat", "tea"], ["bat"], ["nat", "tan"]]
