# snake-to-camel
def camel(s):
    p = s.split("_")
    return p[0] + "".join(x.title() for x in p[1:])
def snake(s):
    import re
    return re.sub(r"(?<!^)(?=[A-Z])", "_", s).lower()
assert camel("hello_big_world") == "helloBigWorld" and snake("helloBigWorld") == "hello_big_world"
