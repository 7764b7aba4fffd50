# pig-latin
def pig(w):
    if w[0] in "aeiou" or w.startswith(("xr", "yt")): return w + "ay"
    i = 0
    while i < len(w) and w[i] not in "aeiouy" or (i < len(w) and w[i] == "u" and i and w[i - 1] == "q") or (i == 0 and w[0] == "y"): i += 1
    return w[i:] + w[:i] + "ay"
assert pig("apple") == "appleay" and pig("chair") == "airchay" and pig("square") == "aresquay" and pig("rhythm") == "ythmrhay"
