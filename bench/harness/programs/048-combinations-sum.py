# combinations-sum
def csum(cands, t):
    out = []
    def go(i, rest, path):
        if rest == 0: out.append(path); return
        for j in range(i, len(cands)):
            if cands[j] <= rest: go(j, rest - cands[j], path + [cands[j]])
    go(0, t, [])
    return out
assert sorted(csum([2, 3, 6, 7], 7)) == [[2, 2, 3], [7]]
