# matching-regex-email
import re
ok = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
assert ok.match("a.b+c@ex-ample.co.uk") and not ok.match("bad@") and not ok.match("@x.com")
