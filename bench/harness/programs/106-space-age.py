# space-age
ORB = {"earth": 1.0, "mercury": 0.2408467, "mars": 1.8808158}
def age(sec, planet): return round(sec / 31557600 / ORB[planet], 2)
assert age(1000000000, "earth") == 31.69 and age(2134835688, "mercury") == 280.88
