# bowling-score
def bowl(r):
    s, i = 0, 0
    for _ in range(10):
        if r[i] == 10: s += 10 + r[i + 1] + r[i + 2]; i += 1
        elif r[i] + r[i + 1] == 10: s += 10 + r[i + 2]; i += 2
        else: s += r[i] + r[i + 1]; i += 2
    return s
assert bowl([10] * 12) == 300 and bowl([9, 0] * 10) == 90 and bowl([5, 5] * 10 + [5]) == 150
