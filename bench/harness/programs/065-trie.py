# trie
class Trie:
    def __init__(s): s.r = {}
    def add(s, w):
        n = s.r
        for c in w: n = n.setdefault(c, {})
        n["$"] = True
    def has(s, w, prefix=False):
        n = s.r
        for c in w:
            if c not in n: return False
            n = n[c]
        return prefix or "$" in n
t = Trie()
for w in ["apple", "app", "bat"]: t.add(w)
assert t.has("app") and not t.has("ap") and t.has("ap", True) and not t.has("cat")
