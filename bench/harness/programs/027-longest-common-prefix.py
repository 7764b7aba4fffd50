# longest-common-prefix
def lcp(ws):
    p = ws[0]
    for w in ws[1:]:
        while not w.startswith(p): p = p[:-1]
    return p
assert lcp(["flower", "flow", "flight"]) == "fl" and lcp(["dog", "car"]) == ""
