# string-permutation-check
from collections import Counter
def perm_in(s1, s2):
    k = len(s1); need = Counter(s1)
    return any(Counter(s2[i:i + k]) == need for i in range(len(s2) - k + 1))
assert perm_in("ab", "eidbaooo") and not perm_in("ab", "eidboaoo")
