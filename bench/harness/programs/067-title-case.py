# title-case
def title(s, minor=("a", "an", "the", "of")):
    w = s.lower().split()
    return " ".join(x if i and x in minor else x.capitalize() for i, x in enumerate(w))
assert title("the lord OF the rings") == "The Lord of the Rings"
