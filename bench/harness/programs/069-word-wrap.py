# word-wrap
import textwrap
def wrap(s, w):
    lines, cur = [], ""
    for word in s.split():
        if cur and len(cur) + 1 + len(word) > w: lines.append(cur); cur = word
        else: cur = f"{cur} {word}" if cur else word
    return lines + [cur]
s = "the quick brown fox jumps over the lazy dog again and again"
assert wrap(s, 15) == textwrap.wrap(s, 15)
