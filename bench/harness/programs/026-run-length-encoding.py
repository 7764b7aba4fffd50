# run-length-encoding
def rle(s):
    out, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]: j += 1
        out.append(f"{j - i}{s[i]}"); i = j
    return "".join(out)
def unrle(s):
    import re
    return "".join(c * int(n) for n, c in re.findall(r"(\d+)(\D)", s))
assert rle("aaabccdddd") == "3a1b2c4d" and unrle(rle("zzzzyx")) == "zzzzyx"
