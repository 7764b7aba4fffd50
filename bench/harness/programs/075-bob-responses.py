# bob-responses
def bob(s):
    s = s.strip()
    if not s: return "Fine."
    shout = s.isupper(); q = s.endswith("?")
    return "Calm down" if shout and q else "Whoa" if shout else "Sure." if q else "Whatever."
assert bob("WATCH OUT!") == "Whoa" and bob("Is it?") == "Sure." and bob("  ") == "Fine."
