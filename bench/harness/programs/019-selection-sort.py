# selection-sort
def sel(a):
    a = list(a)
    for i in range(len(a)):
        m = min(range(i, len(a)), key=a.__getitem__)
        a[i], a[m] = a[m], a[i]
    return a
assert sel(["pear", "apple", "fig"]) == ["apple", "fig", "pear"]
