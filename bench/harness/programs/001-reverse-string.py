# reverse-string
def rev(s): return s[::-1]
assert rev("hello") == "olleh"
assert rev("") == ""
