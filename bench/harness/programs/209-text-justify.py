# text-justify
def justify(words, w):
    lines, cur = [], []
    for x in words:
        if cur and len(" ".join(cur + [x])) > w: lines.append(cur); cur = []
        cur.append(x)
    out = []
    for ln in lines:
        gaps = len(ln) - 1 or 1; sp = w - sum(map(len, ln)); s = ""
        for i, x in enumerate(ln): s += x + (" " * (sp // gaps + (i < sp % gaps)) if i < gaps else "")
        out.append(s.ljust(w))
    return out + [" ".join(cur).ljust(w)]
assert justify("This is an example of text justification.".split(), 16) == ["This    is    an", "example  of text", "justification.  "]
