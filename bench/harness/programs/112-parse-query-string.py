# parse-query-string
def qs(s):
    out = {}
    for part in s.split("&"):
        k, _, v = part.partition("=")
        out.setdefault(k, []).append(v.replace("+", " "))
    return out
assert qs("a=1&b=hello+world&a=2") == {"a": ["1", "2"], "b": ["hello world"]}
