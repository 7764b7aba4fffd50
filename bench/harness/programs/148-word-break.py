# word-break
def wb(s, words):
    d = [True] + [False] * len(s)
    for i in range(1, len(s) + 1): d[i] = any(d[j] and s[j:i] in words for j in range(i))
    return d[-1]
assert wb("leetcode", {"leet", "code"}) and not wb("catsandog", {"cats", "dog", "sand", "and", "cat"})
