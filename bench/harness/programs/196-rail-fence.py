# rail-fence
def rail(s, n):
    rows = [""] * n; r, d = 0, 1
    for c in s:
        rows[r] += c
        if r == 0: d = 1
        elif r == n - 1: d = -1
        r += d
    return "".join(rows)
assert rail("WEAREDISCOVEREDFLEEATONCE", 3) == "WECRLTEERDSOEEFEAOCAIVDEN"
