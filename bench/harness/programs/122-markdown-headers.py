# markdown-headers
import re
def md(s): return re.sub(r"^(#{1,6}) (.*)$", lambda m: f"<h{len(m[1])}>{m[2]}</h{len(m[1])}>", s, flags=re.M)
assert md("# Title\ntext\n### Sub") == "<h1>Title</h1>\ntext\n<h3>Sub</h3>"
