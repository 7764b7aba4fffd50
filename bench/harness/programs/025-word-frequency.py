# word-frequency
from collections import Counter
text = "the cat and the hat and the bat"
c = Counter(text.split())
assert c.most_common(1) == [("the", 3)] and c["and"] == 2
