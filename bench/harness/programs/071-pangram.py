# pangram
def pangram(s): return set("abcdefghijklmnopqrstuvwxyz") <= set(s.lower())
assert pangram("The quick brown fox jumps over the lazy dog") and not pangram("hello world")
