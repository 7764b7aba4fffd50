# vowel-count
def vowels(s): return sum(c in "aeiouAEIOU" for c in s)
assert vowels("The quick brown fox") == 5
