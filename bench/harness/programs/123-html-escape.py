# html-escape
def esc(s): return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
import html
for s in ['<a href="x">&</a>', "plain", "1 < 2 > 0"]: assert esc(s) == html.escape(s, quote=True).replace("&#x27;", "'")
