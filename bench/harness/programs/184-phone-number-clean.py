# phone-number-clean
import re
def clean(s):
    d = re.sub(r"\D", "", s)
    if len(d) == 11 and d[0] == "1": d = d[1:]
    if len(d) != 10 or d[0] in "01" or d[3] in "01": raise ValueError(s)
    return d
assert clean("+1 (613)-995-0253") == "6139950253"
try: clean("123-456-7890"); raise SystemExit(1)
except ValueError: pass
