# min-window-substring
from collections import Counter
def mw(s, t):
    need, have, l, best = Counter(t), 0, 0, ""
    win = Counter()
    for r, c in enumerate(s):
        win[c] += 1
        if win[c] <= need[c]: have += 1
        while have == len(t):
            if not best or r - l + 1 < len(best): best = s[l:r + 1]
            win[s[l]] -= 1
            if win[s[l]] < need[s[l]]: have -= 1
            l += 1
    return best
assert mw("ADOBECODEBANC", "ABC") == "BANC"
