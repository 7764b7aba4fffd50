# isogram
def isogram(s):
    t = [c.lower() for c in s if c.isalpha()]
    return len(t) == len(set(t))
assert isogram("lumberjacks") and not isogram("isograms") and isogram("six-year-old")
