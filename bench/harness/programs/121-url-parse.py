# url-parse
from urllib.parse import urlparse, parse_qs
u = urlparse("https://user@example.com:8443/a/b?x=1&y=2#frag")
assert (u.hostname, u.port, u.path, parse_qs(u.query)["y"], u.fragment) == ("example.com", 8443, "/a/b", ["2"], "frag")
