# anagram
def ana(a, b): return sorted(a.replace(" ", "").lower()) == sorted(b.replace(" ", "").lower())
assert ana("Listen", "Silent")
assert not ana("abc", "abd")
