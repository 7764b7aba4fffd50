# etl-transform
def etl(old): return {w.lower(): score for score, ws in old.items() for w in ws}
assert etl({1: ["A", "E"], 2: ["D", "G"]}) == {"a": 1, "e": 1, "d": 2, "g": 2}
