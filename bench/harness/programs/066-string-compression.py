# string-compression
def comp(s):
    out = []
    for c in s:
        if out and out[-1][0] == c: out[-1][1] += 1
        else: out.append([c, 1])
    r = "".join(f"{c}{n}" for c, n in out)
    return r if len(r) < len(s) else s
assert comp("aabcccccaaa") == "a2b1c5a3" and comp("abc") == "abc"
